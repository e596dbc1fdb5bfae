/*
 * merge.h - libmerge: capture I/O (pcap, pcapng; plain, gzip, zstd) and the
 * k-way merge of captures by timestamp.
 *
 * A packet is bytes, two lengths, a nanosecond timestamp and a linktype.
 * The library never prints, exits or reads the environment.  Every call that
 * can fail returns a negative PM_ERR_* code and, where it takes one, leaves a
 * message in an error buffer of PM_ERRBUF_SIZE bytes.
 */
#ifndef PCAPKIT_MERGE_H
#define PCAPKIT_MERGE_H

#include <stddef.h>
#include <stdint.h>

/*
 * What the library exports: the calls below, nothing else (it is built
 * with -fvisibility=hidden, as zstd's ZSTDLIB_API).
 */
#if defined(__GNUC__) && __GNUC__ >= 4
#define PM_API __attribute__((visibility("default")))
#else
#define PM_API
#endif

/*
 * The version of the header; pm_version_number() is that of the library
 * linked, so a program can check they agree.
 */
#define PM_VERSION_MAJOR 0
#define PM_VERSION_MINOR 2
#define PM_VERSION_PATCH 0
#define PM_VERSION_STRING "0.2.0"
#define PM_VERSION_NUMBER (PM_VERSION_MAJOR * 10000 + \
    PM_VERSION_MINOR * 100 + PM_VERSION_PATCH)
PM_API unsigned pm_version_number(void);

#define PM_ERRBUF_SIZE 512

/* Largest caplen a record may have; anything above is damage, as in libpcap. */
#define PM_MAX_CAPLEN (256u * 1024u)

enum {
	PM_OK = 0,
	PM_ERR_IO = -1,		/* a system call failed; errno is in the message */
	PM_ERR_NOMEM = -2,
	PM_ERR_FORMAT = -3,	/* not a capture file (or unsupported version) */
	PM_ERR_TRUNCATED = -4,	/* the file ends inside a record; see pm_damage */
	PM_ERR_DAMAGED = -5,	/* an impossible record; see pm_damage */
	PM_ERR_COMPRESS = -6,	/* the gzip or zstd stream is corrupt */
	PM_ERR_LINKTYPE = -7,	/* a linktype the output format cannot carry */
	PM_ERR_INVAL = -8,	/* a bad argument */
	PM_ERR_INPUT = -9	/* pm_merge: an input failed; see pm_merge_failed */
};

PM_API const char *pm_strerror(int err);

enum pm_format { PM_FMT_PCAP = 1, PM_FMT_PCAPNG = 2 };
enum pm_compression { PM_COMP_NONE = 0, PM_COMP_GZIP = 1, PM_COMP_ZSTD = 2 };

struct pm_packet {
	int64_t ts;		/* nanoseconds since the Unix epoch */
	uint32_t caplen;	/* bytes at data */
	uint32_t len;		/* length on the wire */
	uint32_t linktype;	/* LINKTYPE_* value */
	uint32_t snaplen;	/* snaplen of the interface it came from */
	/*
	 * Bytes just before data that belong to the packet's record and may
	 * be read as long as data may: 16 for a classic pcap record (its
	 * header), else 0.  Lets a writer pass an unchanged record on whole.
	 */
	uint32_t headroom;
	const uint8_t *data;	/* valid until the next call on its source */
	/* pcapng metadata (below), valid as long as data; NULL for pcap */
	const struct pm_meta *meta;
};

/*
 * The options of a pcapng packet's block (a comment, epb_flags, epb_hash,
 * ...) and of the interface it was captured on (if_name, if_description,
 * ...), in host byte order, each option padded to 4 bytes, without
 * opt_endofopt.  Left out: if_tsresol and if_tsoffset (already applied to
 * ts), the custom options that may not be copied (19372, 19373), and, from
 * a file of the other byte order, options the pcapng specification does
 * not define (their byte order is unknown).
 */
struct pm_meta {
	const uint8_t *opts;
	const uint8_t *ifopts;
	uint32_t optlen;
	uint32_t ifoptlen;
};

/*
 * Damage found by a reader.  The reader reports it once, through a
 * PM_ERR_DAMAGED or PM_ERR_TRUNCATED return, after it has skipped to the
 * next plausible record (or to the end): offset is where the damage starts
 * in the decompressed capture stream, skipped how many bytes were dropped.
 */
struct pm_damage {
	uint64_t offset;
	uint64_t skipped;
	int resynced;		/* 1: reading continues after the gap */
};

/* Counters a reader keeps as it goes; complete once it has returned 0. */
struct pm_reader_stats {
	uint64_t packets;
	uint64_t caplen_bytes;	/* sum of caplen */
	uint64_t wire_bytes;	/* sum of len */
	uint64_t backwards;	/* packets older than the one before them */
	int64_t max_backwards;	/* largest such step, nanoseconds */
	uint64_t damaged;	/* damage reports */
	uint64_t skipped_bytes;
	uint64_t bytes_in;	/* bytes consumed from the file (compressed) */
	/* The rest is valid once packets (or damaged) is above 0. */
	int64_t ts_min, ts_max;	/* earliest and latest timestamp */
	int64_t max_gap;	/* largest forward step between neighbours */
	uint32_t max_caplen;
	uint64_t cut_short;	/* packets with caplen < len */
	uint64_t first_damage;	/* offset of the first damage */
	int truncated;		/* the file ends inside a record */
	int64_t last_ts;	/* of the last packet counted */
	/*
	 * Classic pcap records whose sub-second field is a second or more
	 * (1,000,000 us, 1,000,000,000 ns): read as carried into the
	 * seconds, as the arithmetic says, where libpcap hands the field on
	 * unchanged and tcpdump prints "invalid".
	 */
	uint64_t bad_frac;
	/*
	 * pcapng packets whose time nanoseconds since 1970 in 64 bits cannot
	 * hold (before 1677-09-21, after 2262-04-11; a 64-bit tick count is
	 * unsigned): held at the nearest end, INT64_MIN or INT64_MAX.
	 */
	uint64_t bad_time;
	/*
	 * Packets outside pm_merge_opts' time window, dropped before they
	 * were counted above (the other figures are the window's).
	 */
	uint64_t outside_window;
};

/*
 * a - b for two timestamps, held at the ends of int64 instead of
 * overflowing: a pcapng interface's if_tsoffset can put a packet near
 * INT64_MIN, and the reader holds one past 2262 at INT64_MAX.
 */
static inline int64_t
pm_ts_sub(int64_t a, int64_t b)
{
	int64_t d;

	if (__builtin_sub_overflow(a, b, &d))
		d = a < b ? INT64_MIN : INT64_MAX;
	return d;
}

/*
 * The sizes alone of pm_stats_add: for a caller that sums them over
 * streams whose times it counts elsewhere.
 */
static inline void
pm_stats_add_sizes(struct pm_reader_stats *st, const struct pm_packet *pkt)
{
	st->caplen_bytes += pkt->caplen;
	st->wire_bytes += pkt->len;
	if (pkt->caplen < pkt->len)
		st->cut_short++;
	if (pkt->caplen > st->max_caplen)
		st->max_caplen = pkt->caplen;
}

/*
 * Count one packet into st, as a reader does for its file; a caller may
 * keep the same figures over another stream (a merge, say).  Inline: it
 * runs for every packet read.
 */
static inline void
pm_stats_add(struct pm_reader_stats *st, const struct pm_packet *pkt)
{
	if (st->packets == 0) {
		st->ts_min = st->ts_max = pkt->ts;
	} else if (pkt->ts < st->last_ts) {
		int64_t d = pm_ts_sub(st->last_ts, pkt->ts);
		st->backwards++;
		if (d > st->max_backwards)
			st->max_backwards = d;
		if (pkt->ts < st->ts_min)
			st->ts_min = pkt->ts;
	} else {
		int64_t g = pm_ts_sub(pkt->ts, st->last_ts);
		if (g > st->max_gap)
			st->max_gap = g;
		if (pkt->ts > st->ts_max)
			st->ts_max = pkt->ts;
	}
	st->last_ts = pkt->ts;
	st->packets++;
	pm_stats_add_sizes(st, pkt);
}

/* ---- Reading ---------------------------------------------------------- */

typedef struct pm_reader pm_reader;

/*
 * Open a capture for reading.  name is used in messages only.  The format
 * and compression are found from magic bytes, never from the name.  bufsize
 * is the read buffer (0: 1 MiB); it grows when one record needs more.
 * pm_reader_open_fd takes ownership of fd (it is closed by pm_reader_close,
 * and also on failure).  Returns NULL and fills errbuf; *err (if not NULL)
 * gets the PM_ERR_* code.
 */
PM_API pm_reader *pm_reader_open(const char *path, size_t bufsize, int *err,
    char *errbuf);
PM_API pm_reader *pm_reader_open_fd(int fd, const char *name, size_t bufsize,
    int *err, char *errbuf);

/*
 * Next packet.  Returns 1 with *pkt filled, 0 at a clean end of file, or a
 * negative PM_ERR_* code.  After PM_ERR_DAMAGED or PM_ERR_TRUNCATED,
 * pm_reader_damage() describes the gap and the reader may be called again:
 * it continues after the gap (or returns 0).  Other errors are final.
 */
PM_API int pm_reader_next(pm_reader *r, struct pm_packet *pkt);

PM_API const char *pm_reader_name(const pm_reader *r);
PM_API const char *pm_reader_geterr(const pm_reader *r);
PM_API const struct pm_damage *pm_reader_damage(const pm_reader *r);
PM_API const struct pm_reader_stats *pm_reader_stats(const pm_reader *r);
/* Bytes consumed from the file so far (compressed bytes when compressed). */
PM_API uint64_t pm_reader_bytes_in(const pm_reader *r);
PM_API enum pm_format pm_reader_format(const pm_reader *r);
PM_API enum pm_compression pm_reader_compression(const pm_reader *r);
/* 1 when the file carries timestamps finer than a microsecond. */
PM_API int pm_reader_nano(const pm_reader *r);
/* Largest snaplen declared by the file header or any interface so far. */
PM_API uint32_t pm_reader_snaplen(const pm_reader *r);
/*
 * Linktypes declared so far (pcap: one; pcapng: one per interface block
 * read, without repeats).  Returns the count and sets *types.
 */
PM_API size_t pm_reader_linktypes(const pm_reader *r, const uint32_t **types);
PM_API void pm_reader_close(pm_reader *r);

/* ---- Writing ---------------------------------------------------------- */

typedef struct pm_writer pm_writer;

struct pm_writer_opts {
	enum pm_format format;		/* PM_FMT_PCAP or PM_FMT_PCAPNG */
	enum pm_compression compression;	/* NONE, GZIP or ZSTD */
	int nano;			/* nanosecond timestamps */
	uint32_t snaplen;		/* header / interface snaplen */
	uint32_t linktype;		/* pcap: the one linktype allowed */
	const char *appname;		/* pcapng shb_userappl, or NULL */
};

/*
 * Write a capture to fd (not owned: the caller closes it).  The file header
 * is written at once.  Output is buffered in large blocks.  For PM_FMT_PCAP a
 * packet with another linktype fails with PM_ERR_LINKTYPE; pcapng gets one
 * interface block per linktype, written before its first packet.
 */
PM_API pm_writer *pm_writer_open(int fd, const struct pm_writer_opts *o, int *err,
    char *errbuf);
PM_API int pm_writer_write(pm_writer *w, const struct pm_packet *pkt);
/*
 * The same for a packet just returned by the merge w is attached to (see
 * pm_merge_attach): instead of copying pkt->data, w may keep pointing at it
 * and send it with writev(2) later; the merge makes w write or copy what it
 * holds before a read buffer moves or is freed.  Unattached, or into
 * anything but a character device such as /dev/null: a copy.  (Into a
 * file, a pipe or a socket, uncompressed, w copies into blocks that a
 * thread of its own writes; the thread has ended when pm_writer_finish or
 * pm_writer_close returns, and leaves every signal but SIGPIPE to the
 * caller's threads.)
 */
PM_API int pm_writer_write_ref(pm_writer *w, const struct pm_packet *pkt);
/*
 * Flush everything and finish the compressed stream.  When the output is an
 * uncompressed pcap in a regular file and a record was longer than the
 * header's snaplen, the snaplen in the header is raised to the longest
 * caplen, so that libpcap does not cut such records on reading.
 */
PM_API int pm_writer_finish(pm_writer *w);
PM_API const char *pm_writer_geterr(const pm_writer *w);
PM_API uint64_t pm_writer_bytes(const pm_writer *w);	/* bytes written to fd */
/*
 * Packets written with a time the format cannot hold, at its nearest end:
 * before 1970 (both formats), after 2106 (pcap's 32-bit seconds).  Their
 * time is altered, so a caller should say so.
 */
PM_API uint64_t pm_writer_times_held(const pm_writer *w);
/* Frees w; does not flush (call pm_writer_finish first to keep the data). */
PM_API void pm_writer_close(pm_writer *w);

/* ---- Merging ---------------------------------------------------------- */

typedef struct pm_merge pm_merge;

struct pm_merge_opts {
	int concatenate;	/* 1: inputs one after another, no reordering */
	/*
	 * Most inputs open at once (0: no limit).  With more inputs than
	 * this, runs of inputs are first merged into unlinked temporary files
	 * in tmpdir, which leave nothing behind on any exit.
	 */
	size_t max_open;
	const char *tmpdir;	/* for such passes; NULL: /tmp */
	/*
	 * Read buffer budget shared by the inputs open at once, each getting
	 * 8 KiB to 1 MiB.  0: 4 MiB, but 32 KiB per input as long as that
	 * stays under 64 MiB (up to 2,048 inputs).  Few large buffers stay
	 * in the CPU caches between read(2) and the write; many inputs need
	 * fewer read(2) calls more than they need the caches.
	 */
	size_t buffer_budget;
	/*
	 * 1: keep the CRC-32C of each input file's bytes as stored (see
	 * pm_input_info.crc32c), to check them against a download manifest
	 * in the same pass.
	 */
	int checksum;
	/*
	 * A time window, start inclusive, stop exclusive (editcap's -A and
	 * -B), on the clock after pm_merge_shift(): packets outside it are
	 * dropped as they are read, counted in stats.outside_window, and
	 * left out of every other figure.  window 0: none.
	 */
	int window;
	int64_t start, stop;
};

/* Per-input facts, kept after the input is closed. */
struct pm_input_info {
	const char *name;
	enum pm_format format;
	enum pm_compression compression;
	int nano;
	uint32_t snaplen;
	uint32_t linktype;		/* the first one */
	int mixed_linktypes;		/* a pcapng with several */
	/* Every linktype declared, the first PM_INFO_LINKTYPES of them. */
#define PM_INFO_LINKTYPES 8
	uint32_t linktypes[PM_INFO_LINKTYPES];
	size_t nlinktypes;		/* how many were declared in all */
	int opened;
	int done;			/* read to the end */
	struct pm_reader_stats stats;
	/*
	 * With pm_merge_opts.checksum: 1 once every byte of the file was
	 * read (stats.bytes_in of them), and their CRC-32C.
	 */
	int checksummed;
	uint32_t crc32c;
};

/*
 * The merge's one order, for whoever merges merged streams again (as
 * pcap-summary's workers, each merging a contiguous run of inputs): a
 * packet at time ta from position a (an input, or a run of inputs, in
 * argument order) comes before one at tb from b when ta < tb, or when
 * ta == tb and a < b.  Merging contiguous runs with this rule gives
 * exactly the order of one merge of all the inputs.
 */
static inline int
pm_order_before(int64_t ta, size_t a, int64_t tb, size_t b)
{
	return (ta < tb) | ((ta == tb) & (a < b));
}

PM_API pm_merge *pm_merge_new(const struct pm_merge_opts *o, char *errbuf);
/*
 * Add an input in argument order.  fd < 0: open path when needed; fd >= 0:
 * an open descriptor (stdin), owned by the merge from now on.
 */
PM_API int pm_merge_add(pm_merge *m, const char *path, int fd);
/*
 * Add ns to every timestamp of input i before it is merged (a clock
 * correction; editcap -t for one input of many).  Before the first
 * pm_merge_next.  The input's pm_input_info stays the file's own.
 */
PM_API int pm_merge_shift(pm_merge *m, size_t i, int64_t ns);
/*
 * Next packet in timestamp order (ties: earlier input first, then file
 * order).  Returns 1, 0 at the end, or:
 *  - PM_ERR_INPUT: input pm_merge_failed() could not be opened or failed
 *    for good; it is dropped, and the merge may be called again;
 *  - PM_ERR_DAMAGED / PM_ERR_TRUNCATED: that input had damage, described by
 *    pm_merge_damage(); it continues after the gap on the next call;
 *  - anything else: the merge is broken (temp file I/O, memory).
 * pm_merge_geterr() has the message (without the input's name).
 * Once the first packet (or 0) is returned, every input has been opened
 * and pm_merge_summary() is complete for choosing an output format.
 */
PM_API int pm_merge_next(pm_merge *m, struct pm_packet *pkt);
/*
 * Let w borrow the packets m returns (pm_writer_write_ref): m then tells w
 * before it reuses their memory.  w NULL detaches.  Either may be closed
 * first; the link goes with it.  A write error in such a hand-over is
 * returned by w's next call (pm_writer_finish included).
 */
PM_API void pm_merge_attach(pm_merge *m, pm_writer *w);
PM_API size_t pm_merge_failed(const pm_merge *m);
/*
 * The input the packet last returned came from, or (size_t)-1 when it came
 * through a temporary file of an earlier pass (then several inputs' packets
 * are mixed in one source).
 */
PM_API size_t pm_merge_last_input(const pm_merge *m);
PM_API const struct pm_damage *pm_merge_damage(const pm_merge *m);
PM_API const char *pm_merge_geterr(const pm_merge *m);
PM_API size_t pm_merge_count(const pm_merge *m);
/* Input i's facts, as of now for an input being read; NULL past the end. */
PM_API const struct pm_input_info *pm_merge_input(const pm_merge *m, size_t i);
/* Input i's name, cheaply (per packet); NULL past the end. */
PM_API const char *pm_merge_input_name(const pm_merge *m, size_t i);
/* Compressed bytes consumed so far, over all inputs (for progress). */
PM_API uint64_t pm_merge_bytes_in(const pm_merge *m);
/* Passes through temporary files done so far. */
PM_API unsigned pm_merge_passes(const pm_merge *m);

struct pm_merge_summary {
	int nano;			/* any input has sub-microsecond stamps */
	uint32_t snaplen;		/* largest */
	uint32_t linktype;		/* of the first input that has one */
	int mixed_linktypes;		/* inputs disagree */
};
PM_API void pm_merge_summary(const pm_merge *m, struct pm_merge_summary *s);
PM_API void pm_merge_free(pm_merge *m);

/*
 * The rule pm_merge's callers share: after pm_merge_next returned rc < 0,
 * 1 when the merge must stop (a broken merge, or an input that could not be
 * opened at all, unless skip_unopened), 0 when rc reported damage or a
 * dropped input and the merge goes on.
 */
PM_API int pm_merge_fatal(const pm_merge *m, int rc, int skip_unopened);

/* ---- Parallel ordered scan --------------------------------------------- */

/*
 * A pm_scan reads many inputs on worker threads for a program that does
 * work per packet (dissection, counting) but needs what it finds in the
 * merge's one order (pm_order_before over all inputs).  The inputs are
 * split by size into contiguous runs, the lanes (two per thread), each
 * merged on its own; a thread fills a chunk of packets from whichever free
 * lane the caller's thread needs soonest, calling the function for each,
 * so a slower core does less of the work instead of holding it up.  What
 * the function posts with pm_scan_note, and each input's damage, come to
 * the caller's thread from pm_scan_next, in exactly the order one merge of
 * all inputs would give, whatever the number of threads.  The library owns
 * its threads behind one parameter, workers (as zstd's ZSTD_c_nbWorkers).
 * Memory: four chunks of 32,768 timestamps per lane, plus the notes.
 */
typedef struct pm_scan pm_scan;

struct pm_scan_packet {
	struct pm_packet pkt;
	size_t input;		/* of all inputs, or (size_t)-1 after a pass
				 * through a temporary file */
	uint64_t index;		/* 1-based packet number in it; 0: unknown */
	unsigned lane;		/* 0 .. pm_scan_lanes() - 1 */
};

/*
 * Called on one of the scan's threads, never on two at once for the same
 * lane, and for each lane's packets in that lane's merged order, so state
 * indexed by p->lane needs no lock (a lane moves between threads only
 * through the scan's lock, which orders its memory).  An input's packets
 * are all in one lane.  Returns 0, or < 0 to stop the scan: errbuf
 * (PM_ERRBUF_SIZE) says why, the packet's notes are dropped, and
 * pm_scan_next returns that code when the merged order reaches the packet.
 */
typedef int (*pm_scan_fn)(void *arg, const struct pm_scan_packet *p,
    char *errbuf);

struct pm_scan_opts {
	struct pm_merge_opts merge;	/* for each lane's merge; with
					 * max_open below the number of inputs,
					 * one lane merges in passes */
	unsigned workers;	/* threads; 0: one; at most 256 */
	/* An input that cannot be opened is damage (a PM_SCAN_DAMAGE), not
	 * the end of the scan. */
	int skip_unopened;
	pm_scan_fn packet;
	/* Called on the caller's thread, inside pm_scan_next, every few
	 * thousand packets: compressed bytes read, packets merged so far. */
	void (*progress)(void *arg, uint64_t bytes_in, uint64_t packets);
	void *arg;
};

enum pm_scan_kind {
	PM_SCAN_NOTE,		/* data, len: a note, at its packet */
	PM_SCAN_DAMAGE,		/* an input's damage, before the packet
				 * after it; the scan goes on */
	PM_SCAN_ERROR		/* pm_scan_next returned < 0 */
};

struct pm_scan_event {
	enum pm_scan_kind kind;
	int err;		/* DAMAGE, ERROR: PM_ERR_* or the function's */
	size_t input;		/* the input concerned, or (size_t)-1 */
	const char *name;	/* its name, or NULL */
	const char *text;	/* DAMAGE, ERROR: the message */
	const void *data;	/* NOTE */
	size_t len;
};

PM_API pm_scan *pm_scan_new(const struct pm_scan_opts *o, char *errbuf);
/* As pm_merge_add: in argument order; fd >= 0 is owned by the scan. */
PM_API int pm_scan_add(pm_scan *s, const char *path, int fd);
/* Open the merges and start the workers.  0 or PM_ERR_*. */
PM_API int pm_scan_start(pm_scan *s);
/* Threads started (fewer than asked with fewer inputs); 0 before. */
PM_API unsigned pm_scan_workers(const pm_scan *s);
/* Lanes, for the caller to size its per-lane state: after the last
 * pm_scan_add, what pm_scan_start will make (it may make fewer, never
 * more). */
PM_API size_t pm_scan_lanes(const pm_scan *s);
/* From the function only: a copy of len bytes, delivered at the packet. */
PM_API int pm_scan_note(pm_scan *s, unsigned lane, const void *data,
    size_t len);
/*
 * The next event in merge order: 1 (ev valid until the next call), 0 at the
 * end, or < 0 when the scan stopped (ev->kind PM_SCAN_ERROR says where and
 * why; called again, the same).  After 0, the workers have ended and
 * pm_scan_stats and pm_scan_input are complete.
 */
PM_API int pm_scan_next(pm_scan *s, struct pm_scan_event *ev);
PM_API const char *pm_scan_geterr(const pm_scan *s);
/* Over the merged stream (times in merged order, sizes summed); NULL
 * before pm_scan_next returned 0. */
PM_API const struct pm_reader_stats *pm_scan_stats(const pm_scan *s);
PM_API size_t pm_scan_count(const pm_scan *s);
/* Input i's facts once pm_scan_next returned 0; NULL before or past the
 * end.  The name alone is available any time after pm_scan_start. */
PM_API const struct pm_input_info *pm_scan_input(const pm_scan *s, size_t i);
PM_API const char *pm_scan_input_name(const pm_scan *s, size_t i);
/*
 * Stops and joins the workers.  A worker blocked reading a pipe keeps this
 * waiting: a program about to exit after an error calls pm_scan_abandon
 * instead, which lets the workers go (detached) and frees nothing.
 */
PM_API void pm_scan_free(pm_scan *s);
PM_API void pm_scan_abandon(pm_scan *s);

/* ---- Checksums --------------------------------------------------------- */

/*
 * CRC-32C (Castagnoli), as S3 (x-amz-checksum-crc32c) and GCS (crc32c)
 * give it: pm_crc32c(0, p, n) for n bytes; pass the result back in to
 * continue over more bytes.  Thread-safe.
 */
PM_API uint32_t pm_crc32c(uint32_t crc, const void *data, size_t len);

/* ---- Duplicate removal ------------------------------------------------- */

typedef struct pm_dedup pm_dedup;

/*
 * A packet is a duplicate when one with the same caplen, len, linktype and
 * bytes was seen less than window nanoseconds before it (or at the same
 * time).  Memory is bounded by what arrives within one window.
 */
PM_API pm_dedup *pm_dedup_new(int64_t window);
/* Returns 1 when pkt is a duplicate, 0 when it is new (and remembered),
 * PM_ERR_NOMEM. */
PM_API int pm_dedup_check(pm_dedup *d, const struct pm_packet *pkt);
PM_API void pm_dedup_free(pm_dedup *d);

#endif
