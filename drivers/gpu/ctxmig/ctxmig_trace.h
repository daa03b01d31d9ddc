/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctxmig tracepoints: the "ctxmig" trace system, under
 * /sys/kernel/tracing/events/ctxmig/ (Documentation/gpu/ctxmig/
 * admin-guide.rst, "Tracepoints").
 *
 * The codec's record events (ctxmig_ir.c) carry no device: a data_fd is
 * read or written by its VMM's task, which every trace line names.  The
 * host builds of the pure logic get these as empty functions from the
 * shim's <linux/tracepoint.h> (tools/testing/ctxmig/include).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM ctxmig

#if !defined(_CTXMIG_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _CTXMIG_TRACE_H

#include <linux/ctxmig.h>
#include <linux/tracepoint.h>
#include <linux/vfio.h>

#define ctxmig_trace_state(s)						\
	__print_symbolic(s,						\
			 { VFIO_DEVICE_STATE_ERROR, "error" },		\
			 { VFIO_DEVICE_STATE_STOP, "stop" },		\
			 { VFIO_DEVICE_STATE_RUNNING, "running" },	\
			 { VFIO_DEVICE_STATE_STOP_COPY, "stop_copy" },	\
			 { VFIO_DEVICE_STATE_RESUMING, "resuming" },	\
			 { VFIO_DEVICE_STATE_RUNNING_P2P, "running_p2p" }, \
			 { VFIO_DEVICE_STATE_PRE_COPY, "pre_copy" },	\
			 { VFIO_DEVICE_STATE_PRE_COPY_P2P, "pre_copy_p2p" })

#define ctxmig_trace_type(t)						\
	__print_symbolic(t,						\
			 { CTXMIG_IR_DEVICE, "DEVICE" },		\
			 { CTXMIG_IR_DEV_IDENTITY, "DEV_IDENTITY" },	\
			 { CTXMIG_IR_DEV_CAPS, "DEV_CAPS" },		\
			 { CTXMIG_IR_ENGINE, "ENGINE" },		\
			 { CTXMIG_IR_ENG_RING, "ENG_RING" },		\
			 { CTXMIG_IR_ENG_FENCE, "ENG_FENCE" },		\
			 { CTXMIG_IR_ENG_IRQ, "ENG_IRQ" },		\
			 { CTXMIG_IR_CMD, "CMD" },			\
			 { CTXMIG_IR_MAPPING, "MAPPING" },		\
			 { CTXMIG_IR_VRAM, "VRAM" },			\
			 { CTXMIG_IR_VRAM_ZERO, "VRAM_ZERO" },		\
			 { CTXMIG_IR_END, "END" })

/* One migration state change, one arc of the FSM, and its result. */
TRACE_EVENT(ctxmig_state,
	    TP_PROTO(const char *dev, u32 from, u32 to, int err),
	    TP_ARGS(dev, from, to, err),
	    TP_STRUCT__entry(__string(dev, dev)
			     __field(u32, from)
			     __field(u32, to)
			     __field(int, err)),
	    TP_fast_assign(__assign_str(dev);
			   __entry->from = from;
			   __entry->to = to;
			   __entry->err = err;),
	    TP_printk("%s: %s -> %s: %d", __get_str(dev),
		      ctxmig_trace_state(__entry->from),
		      ctxmig_trace_state(__entry->to), __entry->err)
);

/* A record of a stream, its wire bytes (a container's: its header's). */
DECLARE_EVENT_CLASS(ctxmig_record,
		    TP_PROTO(u16 type, u32 bytes),
		    TP_ARGS(type, bytes),
		    TP_STRUCT__entry(__field(u16, type)
				     __field(u32, bytes)),
		    TP_fast_assign(__entry->type = type;
				   __entry->bytes = bytes;),
		    TP_printk("%s (0x%04x) %u bytes",
			      ctxmig_trace_type(__entry->type),
			      __entry->type, __entry->bytes)
);

/* Written into a saving data_fd's stream. */
DEFINE_EVENT(ctxmig_record, ctxmig_save_record,
	     TP_PROTO(u16 type, u32 bytes),
	     TP_ARGS(type, bytes)
);

/* Read from a resuming data_fd's stream and accepted. */
DEFINE_EVENT(ctxmig_record, ctxmig_restore_record,
	     TP_PROTO(u16 type, u32 bytes),
	     TP_ARGS(type, bytes)
);

/* An optional record of a type this reader does not know, skipped. */
DEFINE_EVENT(ctxmig_record, ctxmig_restore_skip,
	     TP_PROTO(u16 type, u32 bytes),
	     TP_ARGS(type, bytes)
);

/* A pre-copy round as the VMM sees it: VFIO_MIG_GET_PRECOPY_INFO. */
TRACE_EVENT(ctxmig_precopy,
	    TP_PROTO(const char *dev, u64 initial, u64 dirty),
	    TP_ARGS(dev, initial, dirty),
	    TP_STRUCT__entry(__string(dev, dev)
			     __field(u64, initial)
			     __field(u64, dirty)),
	    TP_fast_assign(__assign_str(dev);
			   __entry->initial = initial;
			   __entry->dirty = dirty;),
	    TP_printk("%s: initial %llu dirty %llu", __get_str(dev),
		      __entry->initial, __entry->dirty)
);

/*
 * A migration that failed: a refused stream, a failed save or restore,
 * with the errno and the reason the instance's stats show as last_error.
 */
TRACE_EVENT(ctxmig_error,
	    TP_PROTO(const char *dev, const char *what, int err,
		     const char *reason),
	    TP_ARGS(dev, what, err, reason),
	    TP_STRUCT__entry(__string(dev, dev)
			     __string(what, what)
			     __field(int, err)
			     __string(reason, reason)),
	    TP_fast_assign(__assign_str(dev);
			   __assign_str(what);
			   __entry->err = err;
			   __assign_str(reason);),
	    TP_printk("%s: %s: %d %s", __get_str(dev), __get_str(what),
		      __entry->err, __get_str(reason))
);

/*
 * The engine stopped: asked to (a state without it, a reset, a close) or
 * on an error of its own (err, the positive errno the control page
 * shows); status is enum ctxmig_eng_status, fence the last one signalled.
 */
TRACE_EVENT(ctxmig_engine_stop,
	    TP_PROTO(const char *dev, u32 status, int err, u64 fence),
	    TP_ARGS(dev, status, err, fence),
	    TP_STRUCT__entry(__string(dev, dev)
			     __field(u32, status)
			     __field(int, err)
			     __field(u64, fence)),
	    TP_fast_assign(__assign_str(dev);
			   __entry->status = status;
			   __entry->err = err;
			   __entry->fence = fence;),
	    TP_printk("%s: %s, error %d, fence %llu", __get_str(dev),
		      __print_symbolic(__entry->status, { 0, "idle" },
				       { 1, "busy" }, { 2, "error" }),
		      __entry->err, __entry->fence)
);

#endif /* _CTXMIG_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE ctxmig_trace

/* This part must be outside protection */
#include <trace/define_trace.h>
