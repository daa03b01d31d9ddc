/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host shim: the driver's tracepoints (ctxmig_trace.h) as functions that
 * do nothing, so that the pure logic calls them unchanged.
 */
#ifndef _CTXMIG_SHIM_TRACEPOINT_H
#define _CTXMIG_SHIM_TRACEPOINT_H

#define TP_PROTO(args...)	args
#define TP_ARGS(args...)	args

#define TRACE_EVENT(name, proto, args, tstruct, assign, print)	\
	static inline void trace_##name(proto) { }		\
	static inline bool trace_##name##_enabled(void) { return false; }
#define DECLARE_EVENT_CLASS(name, proto, args, tstruct, assign, print)
#define DEFINE_EVENT(template, name, proto, args)		\
	static inline void trace_##name(proto) { }		\
	static inline bool trace_##name##_enabled(void) { return false; }

#endif
