/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctxmig kselftests: VFIO plumbing and a small guest driver for a ctxmig
 * vGPU.
 *
 * Device part (struct vdev): what a guest's CPU does to the device goes
 * through a transport (struct vdev_ops): config space, 32-bit BAR0
 * register access, BAR2 (VRAM) access of any size, and the system memory
 * the device reaches by DMA.  The guest driver below uses nothing else,
 * so it runs unchanged over every transport:
 *
 *  - VFIO (vdev_open(), the default): the test process is the VMM and the
 *    guest at once.  Create and remove an mdev instance through sysfs,
 *    open it with the classic container flow (/dev/vfio/vfio, the group,
 *    VFIO_TYPE1v2_IOMMU or VFIO_TYPE1_IOMMU, VFIO_GROUP_GET_DEVICE_FD),
 *    enable its memory space and bus mastering as a guest's driver would
 *    (again after a reset), and reach its regions with pread()/pwrite();
 *    system memory is this
 *    process's, mapped for DMA with vdev_map_dma().  The VFIO-only calls
 *    (the migration state machine, VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
 *    an MSI eventfd, reset, the sysfs controls) need it.
 *  - QEMU's qtest protocol (tools/testing/ctxmig/qemu/qtest.c): the test
 *    process is the CPU of a QEMU guest whose vfio-pci device is the vGPU;
 *    config cycles, MMIO to the BARs and guest RAM go over the qtest
 *    socket.
 *
 * Guest part (struct guest): a guest driver written from
 * Documentation/gpu/ctxmig/guest-interface.rst ("the spec" below; its
 * sections are named in quotes where the code relies on them) and the
 * public formats the model pages cite.  The native formats themselves are
 * encoded by the project's model code (drivers/gpu/ctxmig, compiled into
 * the test with the host shim headers of tools/testing/ctxmig/include),
 * which implements exactly those public encodings:
 *
 *  - A local *shadow* struct ctxmig_gpu of the model the control page
 *    names ("Control page": MAGIC, VERSION, MODEL, VA_BITS, GUEST_VRAM)
 *    holds the register file and the page tables.  ctxmig_pt_map()
 *    builds the page tables into the shadow's VRAM (tables from the guest
 *    PT heap GUEST_PT_BASE..GUEST_PT_END); the model's ring_set() and
 *    set_pt_root() program the shadow's registers.
 *  - The shadow is pushed to the device (push_vram(), push_regs()): every
 *    shadow VRAM page written since the last push (only page tables live
 *    there) to BAR2 at the same offset, and every register of the model
 *    ("Model registers": found by probing the model's register helpers,
 *    which write exactly the registers of the spec's table, as the host
 *    test spec_test checks) that differs from what the device last
 *    showed, to BAR0, the ring tail's registers last: the tail is the
 *    doorbell ("The engine").
 *  - Commands are encoded with the model's encode(), or, for a guest that
 *    writes what the real drivers write (guest.real), with the sequences
 *    of drivers/gpu/ctxmig/tests/ctxmig_vectors.c where the model's real
 *    driver has one (amdgpu's VM flush before each submission, fences and
 *    IBs, Mesa's CP DMA; xe's batch starts and breadcrumbs; nouveau's
 *    fences, buffer moves and GPFIFO entries; UVM's semaphore releases,
 *    memcopies and GPFIFO entries with the pushbuffer base written once
 *    per channel, the pushbuffers in the command memory's alias at
 *    GUEST_CMD_VA_HI).  Ring and indirect buffer bytes are written
 *    straight to BAR2 at the VRAM offset the guest's own mappings give.
 *    Models whose ring holds only indirect buffers (NVIDIA GPFIFO) get
 *    their commands in a buffer and a ring entry pointing at it.
 *  - Each submission checks the MIGRATED count first and recovers if it
 *    moved ("How the guest learns of it"), re-reads the registers (the
 *    engine moves the head), appends at the tail, pads to 8 bytes, and
 *    writes the tail once ("Recovery, step by step", 4).
 *  - Post-migration recovery (guest_recover(), "Recovery, step by step"):
 *    read the control page again and acknowledge CTXMIG_IRQ_MIGRATED,
 *    make a fresh shadow of the model the control page names, re-read the
 *    ring registers, head and tail, and compare the tail with the last
 *    one written: guest.lost says the last submission did not reach the
 *    device and must be submitted again.  The mappings are unchanged; the
 *    target's page tables are the restore's, until guest_remap() builds
 *    the guest's own again in the new format.
 *
 * Guest layout (GPU VA -> VRAM offset, 4 KiB pages):
 *   GUEST_CMD_VA  (1 MiB)  -> GUEST_CMD_VRAM:  the ring (GUEST_RING_SIZE)
 *                             at its start, indirect buffers from
 *                             GUEST_BUF_VA;
 *   GUEST_DATA_VA (GUEST_DATA_SIZE) -> GUEST_DATA_VRAM: workload data.
 *
 * Functions return 0 or a negative errno unless said otherwise.
 */
#ifndef _CTXMIG_SELFTEST_GUEST_H
#define _CTXMIG_SELFTEST_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/ctxmig.h>
#include <linux/vfio.h>

/*
 * Pre-copy uAPI (Linux 6.2); Debian 12's userspace headers are 6.1.
 * Documentation/gpu/ctxmig/guest-interface.rst, "Building a VMM's tools",
 * says how to build against 6.12's instead.
 */
#ifndef VFIO_MIG_GET_PRECOPY_INFO
#define VFIO_MIGRATION_PRE_COPY		0x4
#define VFIO_DEVICE_STATE_PRE_COPY	6
#define VFIO_DEVICE_STATE_PRE_COPY_P2P	7
struct vfio_precopy_info {
	__u32 argsz;
	__u32 flags;
	__u64 initial_bytes;
	__u64 dirty_bytes;
};

#define VFIO_MIG_GET_PRECOPY_INFO	_IO(VFIO_TYPE, VFIO_BASE + 21)
#endif

#define GUEST_PT_BASE		0x10000ULL
#define GUEST_PT_END		0x400000ULL
#define GUEST_CMD_VA		0x100000ULL
#define GUEST_CMD_VRAM		0x400000ULL
#define GUEST_CMD_SIZE		0x100000ULL
#define GUEST_RING_SIZE		4096U
#define GUEST_BUF_VA		(GUEST_CMD_VA + 0x10000ULL)
/* The command memory again above 1 TiB, for guest.real: see above. */
#define GUEST_CMD_VA_HI		(0x10000000000ULL + 0x8000000ULL)
#define GUEST_DATA_VA		0x10000000ULL
#define GUEST_DATA_VRAM		0x1000000ULL
#define GUEST_DATA_SIZE		0x100000ULL

/*
 * Polling timeout for the engine, in milliseconds: guest_timeout_ms,
 * GUEST_TIMEOUT_MS unless a slower transport raised it.
 */
#define GUEST_TIMEOUT_MS	5000
extern unsigned int guest_timeout_ms;

/*
 * The control page's registers and values are CTXMIG_CTL_*, CTXMIG_IRQ_*
 * and CTXMIG_ENG_* of <linux/ctxmig.h>.  These two names remain for the
 * qemu tier's transport and the demo until they use those.
 */
#define GUEST_CTL_SIZE		CTXMIG_CTL_SIZE
#define GUEST_CTL_MIGRATED	CTXMIG_CTL_MIGRATED

struct vdev;

/**
 * struct vdev_ops - how a guest's CPU reaches the device
 * @name: the transport's name, for messages
 * @cfg_rw: @len bytes (1, 2 or 4, naturally aligned) of PCI config space
 *	at @off
 * @bar_rw: @len bytes of BAR @bar (0 or 2) at @off, inside the BAR;
 *	BAR0 takes 32-bit accesses only
 * @sys_rw: @len bytes of the system memory the device reaches by DMA, at
 *	bus address @iova
 *
 * Each returns 0 or a negative errno.
 */
struct vdev_ops {
	const char *name;
	int (*cfg_rw)(struct vdev *d, uint32_t off, void *buf, size_t len,
		      bool write);
	int (*bar_rw)(struct vdev *d, unsigned int bar, uint64_t off,
		      void *buf, size_t len, bool write);
	int (*sys_rw)(struct vdev *d, uint64_t iova, void *buf, size_t len,
		      bool write);
};

/* The VFIO transport: the regions of the device file descriptor. */
extern const struct vdev_ops vdev_vfio_ops;

/* Buffers of this process mapped for the device's DMA (VFIO transport). */
#define VDEV_DMA_MAX	8

/*
 * One ctxmig device: through VFIO, an mdev instance and its file
 * descriptors; through another transport, @ops and @priv.
 */
struct vdev {
	const struct vdev_ops *ops;
	void *priv;		/* the transport's */
	char uuid[37];
	char model[32];
	bool created;
	int container;
	int group;
	int fd;
	uint64_t cfg_off, cfg_size;
	uint64_t bar0_off, bar0_size;
	uint64_t bar2_off, bar2_size;
	uint32_t ctl;		/* control page offset in BAR0 */
	struct {
		void *vaddr;
		uint64_t iova, size;
	} dma[VDEV_DMA_MAX];
	unsigned int ndma;
};

/* An unopened device on the VFIO transport. */
void vdev_init(struct vdev *d);
int vdev_create(struct vdev *d, const char *model);
int vdev_open(struct vdev *d);
void vdev_close(struct vdev *d);
int vdev_remove(struct vdev *d);
/* vdev_close() and vdev_remove(), whatever state @d is in. */
void vdev_destroy(struct vdev *d);

/*
 * The same, with the instance remembered so that it is removed at exit
 * even if the test process that created it was killed.  Call
 * vdev_track_init() first, in the main process.
 */
void vdev_track_init(void);
int vdev_track_create(struct vdev *d, const char *model);
/* Close, then remove; returns vdev_remove()'s result. */
int vdev_track_remove(struct vdev *d);
/* vdev_track_create() and vdev_open(), undone if the open fails. */
int vdev_track_new(struct vdev *d, const char *model);

int vdev_region_rw(struct vdev *d, uint64_t off, void *buf, size_t len,
		   bool write);

/* Through the transport: config space, BAR0, BAR2 and system memory. */
int vdev_cfg_read(struct vdev *d, uint32_t off, void *buf, size_t len);
int vdev_cfg_write(struct vdev *d, uint32_t off, const void *buf,
		   size_t len);
uint32_t vdev_rd32(struct vdev *d, uint32_t off);
int vdev_wr32(struct vdev *d, uint32_t off, uint32_t val);
uint32_t vdev_ctl(struct vdev *d, uint32_t reg);
int vdev_ctl_wr(struct vdev *d, uint32_t reg, uint32_t val);
int vdev_vram_read(struct vdev *d, uint64_t off, void *buf, size_t len);
int vdev_vram_write(struct vdev *d, uint64_t off, const void *buf,
		    size_t len);
int vdev_sys_read(struct vdev *d, uint64_t iova, void *buf, size_t len);
int vdev_sys_write(struct vdev *d, uint64_t iova, const void *buf,
		   size_t len);
/*
 * Map @len bytes of BAR2 from VRAM offset @off, shared, read/write; NULL
 * with errno set on failure.  munmap() it before vdev_remove(): removal
 * waits for the device to be released, which a mapping prevents.
 */
void *vdev_vram_mmap(struct vdev *d, uint64_t off, size_t len);

/*
 * Let the device DMA to @size bytes of this process at @vaddr, at @iova;
 * vdev_sys_read() and vdev_sys_write() reach the first VDEV_DMA_MAX such
 * buffers there.
 */
int vdev_map_dma(struct vdev *d, void *vaddr, uint64_t iova, uint64_t size);
int vdev_mig_flags(struct vdev *d, uint64_t *flags);
/* Set a migration state; *@data_fd gets the new data_fd or -1. */
int vdev_set_state(struct vdev *d, uint32_t state, int *data_fd);
int vdev_get_state(struct vdev *d, uint32_t *state);
/*
 * A new eventfd as IRQ @index's trigger (@action VFIO_IRQ_SET_ACTION_TRIGGER)
 * or its unmask eventfd (VFIO_IRQ_SET_ACTION_UNMASK); *@efd gets it.
 */
int vdev_irq_eventfd(struct vdev *d, uint32_t index, uint32_t action,
		     int *efd);
/* An eventfd triggered by the device's MSI; *@efd gets it. */
int vdev_msi_eventfd(struct vdev *d, int *efd);
int vdev_irq_disable(struct vdev *d, uint32_t index);
/* Wait up to @ms for @efd to be signalled; returns its count or -errno. */
int64_t vdev_eventfd_wait(int efd, int ms);

/* Read a data_fd to EOF into a malloc'ed buffer. */
int vdev_read_stream(int fd, uint8_t **buf, size_t *len);
/*
 * Restore @len bytes of @stream into @d: STOP, RESUMING, the stream in
 * @chunk-byte writes, STOP.  Returns 0 or the failing state change's
 * -errno; *@write_err gets the writes' result.
 */
int vdev_restore_stream(struct vdev *d, const uint8_t *stream, size_t len,
			size_t chunk, int *write_err);
/* Write @len bytes to a data_fd in pieces of @chunk bytes. */
int vdev_write_stream(int fd, const uint8_t *buf, size_t len, size_t chunk);
/*
 * The offset of a stream's END record header, and in *@records the
 * top-level records before it; 0 if @len bytes hold no END.
 */
size_t vdev_stream_end(const uint8_t *stream, size_t len, uint64_t *records);

/* A saved stream growing in memory, as the tests collect one. */
struct vdev_stream {
	uint8_t *p;
	size_t len, cap;
};

/* Free @s's buffer and empty it. */
void vdev_stream_free(struct vdev_stream *s);
/* Make room for @more bytes after @s->len: 0 or -ENOMEM. */
int vdev_stream_room(struct vdev_stream *s, size_t more);
/* One read() of up to @max bytes of @fd appended to @s: its result, -errno. */
ssize_t vdev_stream_read(struct vdev_stream *s, int fd, size_t max);
/* Read @fd to EOF, appending to @s: 0 or -errno. */
int vdev_stream_read_all(struct vdev_stream *s, int fd);
/* STOP, STOP_COPY, the whole stream appended to @s, STOP: 0 or -errno. */
int vdev_save_stopped(struct vdev *d, struct vdev_stream *s);

/* VFIO_DEVICE_RESET, then memory space and bus mastering enabled again. */
int vdev_reset(struct vdev *d);
/* Write @val to the instance's sysfs debug control ctxmig/@attr. */
int vdev_attr_write(struct vdev *d, const char *attr, const char *val);
/* Read ctxmig/@attr into @buf (NUL-terminated); returns its length. */
int vdev_attr_read(struct vdev *d, const char *attr, char *buf, size_t size);
/* Whether ctxmig/stats, from its last_error line on, mentions @what. */
bool vdev_last_error_has(struct vdev *d, const char *what);

/*
 * The stream CRC of the IR (CRC32C, seed ~0, final xor ~0) of @len bytes,
 * as CTXMIG_IR_END and the preamble carry it.
 */
uint32_t guest_ir_crc(const void *p, size_t len);

/* A neutral command: op is CTXMIG_OP_*, flags CTXMIG_CMD_*. */
struct guest_cmd {
	uint8_t op;
	uint16_t flags;
	uint64_t dst;
	uint64_t src;
	uint64_t value;
};

struct ctxmig_gpu;
struct ctxmig_model;

/* One mapping of the guest's, kept to build its tables again. */
struct guest_map {
	uint64_t va;
	uint64_t size;
	uint64_t addr;		/* VRAM offset, or a bus address (sysmem) */
	uint32_t flags;		/* CTXMIG_MAP_* */
};

#define GUEST_MAPS_MAX	8

/* The guest driver of one device. */
struct guest {
	struct vdev *dev;
	const struct ctxmig_model *model;
	struct ctxmig_gpu *shadow;
	uint32_t *last;		/* registers as the device last showed them */
	uint32_t *regs;		/* byte offsets of the registers in use */
	uint32_t nregs;
	uint32_t *tail_regs;	/* those of them the ring tail lives in */
	uint32_t ntail_regs;
	uint64_t pt_next;
	uint64_t buf_next;
	uint32_t migrated;	/* MIGRATED count last seen */
	uint32_t version;	/* the control page's VERSION */
	uint64_t guest_vram;	/* its GUEST_VRAM */
	uint32_t tail_sent;	/* ring tail last written, in bytes */
	bool lost;		/* recovery: the last submission was lost */
	struct guest_map maps[GUEST_MAPS_MAX];
	unsigned int nmaps;
	bool maps_dropped;	/* more than GUEST_MAPS_MAX: no remap */
	bool real;		/* the real drivers' words; set before setup */
	uint8_t chan;		/* channel state they set up (VEC_CHAN_*) */
	char why[160];		/* reason of the last failure */
};

/* Attach to an open device; its model comes from the control page. */
int guest_init(struct guest *g, struct vdev *dev);
void guest_fini(struct guest *g);
/* Page tables, the ring (empty, enabled), all pushed to the device. */
int guest_setup(struct guest *g);
/*
 * Submit commands, through an indirect buffer if @ib or the model wants;
 * recovers first if the device was migrated since the guest last looked.
 */
int guest_submit(struct guest *g, const struct guest_cmd *c, unsigned int n,
		 bool ib);
/*
 * What a submission does once it has checked for a migration: encode for
 * the model the guest last saw, write the ring, and with @doorbell the
 * tail.  A test calls it to play a guest whose VM stopped inside a
 * submission: without @doorbell, stopped before its tail write.
 */
int guest_submit_raced(struct guest *g, const struct guest_cmd *c,
		       unsigned int n, bool ib, bool doorbell);
/* Wait until the last fence is >= @seq and the engine is idle. */
int guest_wait_fence(struct guest *g, uint64_t seq);
int guest_wait_idle(struct guest *g);
/* Map GPU VA @va to system memory at @iova (see vdev_map_dma()). */
int guest_map_sysmem(struct guest *g, uint64_t va, uint64_t iova,
		     uint64_t size);
/*
 * Post-migration recovery: new shadow of the device's current model, the
 * ring read again; sets @g->lost if the last submission did not reach the
 * device before the migration (submit it again).
 */
int guest_recover(struct guest *g);
/*
 * Build the guest's page tables again, in its own VRAM and the device's
 * current format, and point the root register at them: after a migration,
 * once the commands from before it have completed.  -E2BIG for a guest of
 * more than GUEST_MAPS_MAX mappings.
 */
int guest_remap(struct guest *g);
/*
 * A second guest driver that takes over @from's mappings and command
 * buffers on @dev, where @from's state was restored, and recovers there;
 * @from is untouched.  Release with guest_fini().
 */
int guest_fork(struct guest *to, const struct guest *from, struct vdev *dev);
uint64_t guest_fence(struct guest *g);
const char *guest_model_name(const struct guest *g);
/* The VRAM offset of a guest VA, or UINT64_MAX if unmapped. */
uint64_t guest_va_to_vram(const struct guest *g, uint64_t va);
/* The VRAM offset of the root page table, or UINT64_MAX if paging is off. */
uint64_t guest_pt_root(const struct guest *g);
/*
 * Map GPU VA @va to @size bytes of VRAM at @vram, wherever that is (a
 * test of what a device does with a mapping it cannot migrate), pushed.
 */
int guest_map_vram(struct guest *g, uint64_t va, uint64_t vram,
		   uint64_t size);

#endif /* _CTXMIG_SELFTEST_GUEST_H */
