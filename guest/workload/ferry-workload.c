/*
 * ferry-workload: self-checking workloads for the Ferry test guest.
 *
 * One static binary, one mode per process (the guest's /init forks one per workload):
 *   ferry-workload hb BOOTID          heartbeat line every second
 *   ferry-workload mem MiB[:RATE]     memory writer that verifies every page before rewriting it
 *   ferry-workload disk RATE[:MiB]    /dev/vda writer that verifies every block before rewriting it
 *   ferry-workload diskcheck [MiB]    offline check of what `disk` left on /dev/vda
 *   ferry-workload powerbtn           power off when the ACPI power button is pressed
 *   ferry-workload stream PORT        TCP service: to each client a numbered line every 10 ms,
 *                                     each echoing the last line the client sent
 *
 * The line formats are a contract with the Java tests (see guest/README.md): change them only
 * together with the parsers.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <linux/input.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/mman.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096u             /* memory page and disk block size */
#define WORDS (PAGE / 8)       /* 64-bit words per page/block */
#define SLICE 0.010            /* rate limiting granularity, seconds */
#define MAX_ERR_LINES 20       /* error lines per second before we only count them */
#define DISK_DEV "/dev/vda"
#define DISK_BATCH 16          /* blocks per read/write syscall when the rate allows it */

static const uint64_t UNKNOWN = UINT64_MAX;
static uint64_t mix[WORDS];    /* mix[w] = w * golden ratio; mix[0] == 0 so word 0 decodes directly */

/* ---------------------------------------------------------------- output and time */

/* Every line is formatted first and written with one write(2) to stdout (the serial port, set
 * up by /init): lines of concurrent workloads never interleave, and nothing sits in a stdio
 * buffer when the VM is paused, migrated or killed. */
static void say(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (n > (int)sizeof buf - 2)
        n = sizeof buf - 2;
    buf[n++] = '\n';
    for (const char *p = buf; n > 0;) {
        ssize_t w = write(1, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= w;
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
    if (s <= 0)
        return;
    struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

/* Parses "A" or "A:B" (decimal); B defaults to *b. Returns 0 on success. */
static int parse_pair(const char *s, uint64_t *a, uint64_t *b)
{
    char *end;
    errno = 0;
    *a = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    if (*end == ':') {
        const char *t = end + 1;
        *b = strtoull(t, &end, 10);
        if (errno || end == t)
            return -1;
    }
    return *end ? -1 : 0;
}

/* Token bucket drained in ~10 ms slices, so the dirty rate a migration sees is smooth instead of
 * one burst per second. rate 0 means unlimited. */
struct pacer { double rate, credit, last; };

static void pacer_init(struct pacer *p, double units_per_s)
{
    p->rate = units_per_s;
    p->credit = 0;
    p->last = now();
}

/* Returns how many units (1..want) may be processed now, sleeping in slices until one may. */
static uint64_t pacer_take(struct pacer *p, uint64_t want)
{
    if (p->rate <= 0)
        return want;
    double slice = p->rate * SLICE < 1 ? 1 : p->rate * SLICE;
    double threshold = (double)want < slice ? (double)want : slice;
    for (;;) {
        double t = now();
        p->credit += (t - p->last) * p->rate;
        p->last = t;
        /* No catching up after a stall (VM paused, CPU starved): that would be a burst. */
        if (p->credit > threshold + p->rate * 0.05)
            p->credit = threshold + p->rate * 0.05;
        if (p->credit >= threshold) {
            uint64_t n = (uint64_t)p->credit;
            if (n > want)
                n = want;
            p->credit -= n;
            return n;
        }
        double wait = (threshold - p->credit) / p->rate;
        sleep_s(wait < SLICE ? wait : SLICE);
    }
}

/* At most MAX_ERR_LINES error lines per second; the rest are counted and reported as one line,
 * so a badly broken migration cannot flood the serial console. */
struct errlimit { unsigned lines; uint64_t suppressed; };

static int err_may_print(struct errlimit *e)
{
    if (e->lines < MAX_ERR_LINES) {
        e->lines++;
        return 1;
    }
    e->suppressed++;
    return 0;
}

static void err_flush(struct errlimit *e, const char *tag)
{
    if (e->suppressed)
        say("FERRY %s suppressed=%" PRIu64, tag, e->suppressed);
    e->lines = 0;
    e->suppressed = 0;
}

/* Word w of page/block `id` in generation `gen`. The (gen, id) base differs in every word
 * between generations and between pages; the per-word mix catches words moved within a page. */
static inline uint64_t pattern(uint64_t id, uint64_t gen, unsigned w)
{
    return ((gen << 32) | (id & 0xffffffffu)) ^ mix[w];
}

/* ---------------------------------------------------------------- heartbeat */

/* The kernel's clocksource, once: what guest time at a COLO failover or a migration depends on. */
static void say_clocksource(void)
{
    char name[64] = "unknown";
    FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
    if (f) {
        if (fscanf(f, "%63s", name) != 1)
            strcpy(name, "unknown");
        fclose(f);
    }
    say("FERRY CLOCK source=%s", name);
}

static _Noreturn void run_hb(const char *bootid)
{
    struct timespec next, now;
    say_clocksource();
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (uint64_t seq = 1;; seq++) {
        /* mono_ms: the guest's own clock, set against the host's to see it stop or jump */
        clock_gettime(CLOCK_MONOTONIC, &now);
        say("FERRY HB boot=%s seq=%" PRIu64 " mono_ms=%" PRIu64, bootid, seq,
            (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000);
        /* Absolute deadlines: no drift, and a pause (migration downtime) shows as a gap. */
        next.tv_sec++;
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
            ;
    }
}

/* ---------------------------------------------------------------- memory */

static int run_mem(const char *spec)
{
    uint64_t mib, rate = 0;
    if (parse_pair(spec, &mib, &rate) || mib == 0) {
        say("FERRY MEM-FATAL bad spec '%s' (want MiB[:MiB/s])", spec);
        return 2;
    }
    uint64_t pages = mib * (1024 * 1024 / PAGE);
    size_t size = pages * PAGE;
    uint64_t *mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (mem == MAP_FAILED) {
        say("FERRY MEM-FATAL mmap %" PRIu64 " MiB: %s", mib, strerror(errno));
        return 1;
    }
    /* 4 KiB pages: the unit QEMU tracks dirty memory in, so one lost dirty page = one error. */
    madvise(mem, size, MADV_NOHUGEPAGE);
    if (mlock(mem, size))
        say("FERRY MEM note=mlock-failed err=%s", strerror(errno));
    say("FERRY MEM start MiB=%" PRIu64 " pages=%" PRIu64 " rate=%" PRIu64, mib, pages, rate);

    struct pacer pc;
    struct errlimit el = { 0, 0 };
    pacer_init(&pc, (double)rate * (1024 * 1024 / PAGE));
    uint64_t gen = 1, i = 0, errors = 0, written = 0;
    double last_report = now();
    for (;;) {
        uint64_t n = pacer_take(&pc, pages - i < 256 ? pages - i : 256);
        for (uint64_t k = 0; k < n; k++, i++) {
            uint64_t *pg = mem + i * WORDS;
            /* Generation 1 writes fresh memory; from then on every word must still hold what
             * the previous sweep wrote — otherwise a write was lost (e.g. a dirty page that a
             * migration did not copy again). */
            if (gen > 1) {
                uint64_t base = pattern(i, gen - 1, 0);
                unsigned w = 0;
                while (w < WORDS && pg[w] == (base ^ mix[w]))
                    w++;
                if (w < WORDS) {
                    errors++;
                    if (err_may_print(&el)) {
                        /* Decode the first wrong word (word 0 for a whole stale page): a
                         * lost dirty page shows as an older generation. */
                        uint64_t v = pg[w] ^ mix[w];
                        char found[32];
                        if (pg[w] == 0)
                            strcpy(found, "zero");
                        else if ((v & 0xffffffffu) == (i & 0xffffffffu))
                            snprintf(found, sizeof found, "%" PRIu64, v >> 32);
                        else
                            strcpy(found, "corrupt");
                        say("FERRY MEM-ERROR page=%" PRIu64 " expected=%" PRIu64 " found=%s",
                            i, gen - 1, found);
                    }
                }
            }
            uint64_t base = pattern(i, gen, 0);
            for (unsigned w = 0; w < WORDS; w++)
                pg[w] = base ^ mix[w];
        }
        written += n;
        if (i == pages) {
            i = 0;
            gen++;
        }
        double t = now();
        if (t - last_report >= 1.0) {
            err_flush(&el, "MEM-ERROR");
            say("FERRY MEM gen=%" PRIu64 " rate=%.1f errors=%" PRIu64, gen,
                written * (double)PAGE / (1024 * 1024) / (t - last_report), errors);
            written = 0;
            last_report = t;
        }
    }
}

/* ---------------------------------------------------------------- disk records */

/* Block layout (little-endian u64 words): 0 magic "FERRYBLK", 1 block index, 2 generation,
 * 3 checksum, 4..511 filler = pattern(index, gen, w). The checksum is FNV-1a 64 taken over
 * whole words (h ^= word; h *= prime) of every word but word 3. */
enum { BLK_VALID, BLK_ZERO, BLK_CORRUPT, BLK_INDEX };
static uint64_t MAGIC;

static uint64_t blk_csum(const uint64_t *b)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned w = 0; w < WORDS; w++) {
        if (w == 3)
            continue;
        h ^= b[w];
        h *= 0x100000001b3ull;
    }
    return h;
}

static void blk_fill(uint64_t *b, uint64_t index, uint64_t gen)
{
    b[0] = MAGIC;
    b[1] = index;
    b[2] = gen;
    for (unsigned w = 4; w < WORDS; w++)
        b[w] = pattern(index, gen, w);
    b[3] = blk_csum(b);
}

/* Classifies block `index`; for BLK_VALID stores its generation in *gen. */
static int blk_classify(const uint64_t *b, uint64_t index, uint64_t *gen)
{
    if (b[0] != MAGIC || b[3] != blk_csum(b)) {
        for (unsigned w = 0; w < WORDS; w++)
            if (b[w])
                return BLK_CORRUPT;
        return BLK_ZERO;
    }
    if (b[1] != index)
        return BLK_INDEX;   /* a valid record of another block: misdirected write */
    *gen = b[2];
    return BLK_VALID;
}

static int io_full(int fd, void *buf, size_t len, off_t off, int writing)
{
    for (size_t done = 0; done < len;) {
        ssize_t r = writing ? pwrite(fd, (char *)buf + done, len - done, off + done)
                            : pread(fd, (char *)buf + done, len - done, off + done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = EIO;
            return -1;
        }
        done += r;
    }
    return 0;
}

static const char *disk_path(void)
{
    /* FERRY_DISK=<raw image or device> runs the writer/checker on the host, for testing. */
    const char *p = getenv("FERRY_DISK");
    return p && *p ? p : DISK_DEV;
}

/* Opens /dev/vda with O_DIRECT (reads come from the device, not the guest page cache) and,
 * for the writer, O_SYNC (a completed write has reached QEMU). Waits a little for the device
 * node: virtio_blk may still be probing when the workload starts. */
static int disk_open(int flags, uint64_t mib, uint64_t *nblocks)
{
    int fd = -1;
    for (int tries = 0; tries < 100 && fd < 0; tries++) {
        fd = open(disk_path(), flags | O_DIRECT);
        if (fd < 0)
            sleep_s(0.1);
    }
    if (fd < 0)
        return -1;
    uint64_t bytes;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        bytes = st.st_size;
    else if (ioctl(fd, BLKGETSIZE64, &bytes)) {
        close(fd);
        return -1;
    }
    *nblocks = bytes / PAGE;
    if (mib && mib * (1024 * 1024 / PAGE) < *nblocks)
        *nblocks = mib * (1024 * 1024 / PAGE);
    return fd;
}

/* Generation of block i (0 for zero-filled), or UNKNOWN if unreadable/invalid. */
static uint64_t disk_gen_at(int fd, uint64_t *buf, uint64_t i)
{
    uint64_t g;
    if (io_full(fd, buf, PAGE, (off_t)(i * PAGE), 0))
        return UNKNOWN;
    switch (blk_classify(buf, i, &g)) {
    case BLK_VALID: return g;
    case BLK_ZERO: return 0;
    default: return UNKNOWN;
    }
}

/* ---------------------------------------------------------------- disk writer */

static int run_disk(const char *spec)
{
    uint64_t rate, mib = 0, n;
    if (parse_pair(spec, &rate, &mib)) {
        say("FERRY DISK-FATAL bad spec '%s' (want MiB/s[:MiB])", spec);
        return 2;
    }
    int fd = disk_open(O_RDWR | O_SYNC, mib, &n);
    if (fd < 0 || n == 0) {
        say("FERRY DISK-FATAL cannot use %s: %s", disk_path(), fd < 0 ? strerror(errno) : "empty");
        return 1;
    }
    uint64_t *buf, *gens = malloc(n * sizeof *gens);
    if (!gens || posix_memalign((void **)&buf, PAGE, DISK_BATCH * PAGE)) {
        say("FERRY DISK-FATAL out of memory");
        return 1;
    }
    for (uint64_t i = 0; i < n; i++)
        gens[i] = UNKNOWN;   /* nothing written by this process yet: accept any valid record */

    /* Resume where a previous writer (earlier boot, or before a migration restarted us) left
     * off so the disk keeps the one-step pattern diskcheck verifies: block 0 holds the newest
     * generation G; binary-search the first block not holding G. None: start sweep G+1 at
     * block 0. Otherwise finish sweep G from there. */
    uint64_t gen = 1, pos = 0, g0 = disk_gen_at(fd, buf, 0);
    if (g0 != UNKNOWN && g0 != 0) {
        uint64_t lo = 0, hi = n;   /* gen(lo) == g0; hi is the first block known not to be */
        while (hi - lo > 1) {
            uint64_t mid = lo + (hi - lo) / 2;
            if (disk_gen_at(fd, buf, mid) == g0)
                lo = mid;
            else
                hi = mid;
        }
        gen = hi == n ? g0 + 1 : g0;
        pos = hi == n ? 0 : hi;
    }
    say("FERRY DISK start gen=%" PRIu64 " block=%" PRIu64 " blocks=%" PRIu64 " rate=%" PRIu64,
        gen, pos, n, rate);

    struct pacer pc;
    struct errlimit el = { 0, 0 };
    pacer_init(&pc, (double)rate * (1024 * 1024 / PAGE));
    uint64_t errors = 0, written = 0;
    /* write latency as the guest sees it: what a storage move costs the workload */
    double lat_sum = 0, lat_max = 0;
    uint64_t lat_n = 0;
    double last_report = now();
    for (;;) {
        uint64_t want = n - pos < DISK_BATCH ? n - pos : DISK_BATCH;
        uint64_t k = pacer_take(&pc, want);
        off_t off = (off_t)(pos * PAGE);
        const char *op = "read";
        if (io_full(fd, buf, k * PAGE, off, 0) == 0) {
            for (uint64_t j = 0; j < k; j++) {
                uint64_t b = pos + j, *blk = buf + j * WORDS, g = 0;
                int st = blk_classify(blk, b, &g);
                int ok = gens[b] == UNKNOWN ? (st == BLK_VALID || st == BLK_ZERO)
                                            : (st == BLK_VALID && g == gens[b]);
                if (!ok) {
                    errors++;
                    if (err_may_print(&el)) {
                        char exp[24], found[24];
                        if (gens[b] == UNKNOWN)
                            strcpy(exp, "any");
                        else
                            snprintf(exp, sizeof exp, "%" PRIu64, gens[b]);
                        if (st == BLK_VALID)
                            snprintf(found, sizeof found, "%" PRIu64, g);
                        else
                            strcpy(found, st == BLK_ZERO ? "zero" : "corrupt");
                        say("FERRY DISK-ERROR block=%" PRIu64 " expected=%s found=%s", b, exp,
                            found);
                    }
                }
                blk_fill(blk, b, gen);
            }
            op = "write";
            double w0 = now();
            int wr = io_full(fd, buf, k * PAGE, off, 1);
            double wl = now() - w0;
            lat_sum += wl;
            lat_n++;
            if (wl > lat_max)
                lat_max = wl;
            if (wr == 0) {
                for (uint64_t j = 0; j < k; j++)
                    gens[pos + j] = gen;
                pos += k;
                written += k;
                if (pos == n) {
                    pos = 0;
                    gen++;
                }
                op = NULL;
            }
        }
        if (op) {   /* I/O error: count it, retry the same blocks a little later */
            errors++;
            if (err_may_print(&el))
                say("FERRY DISK-IOERROR op=%s block=%" PRIu64 " err=%s", op, pos, strerror(errno));
            sleep_s(0.1);
        }
        double t = now();
        if (t - last_report >= 1.0) {
            err_flush(&el, "DISK-ERROR");
            say("FERRY DISK gen=%" PRIu64 " block=%" PRIu64 " rate=%.1f errors=%" PRIu64
                " lat_us=%.0f maxlat_us=%.0f", gen, pos,
                written * (double)PAGE / (1024 * 1024) / (t - last_report), errors,
                lat_n ? lat_sum / lat_n * 1e6 : 0.0, lat_max * 1e6);
            written = 0;
            lat_sum = lat_max = 0;
            lat_n = 0;
            last_report = t;
        }
    }
}

/* ---------------------------------------------------------------- offline disk check */

/* Per-block state for the check: the generation (0 = zero-filled) or one of these. */
#define GEN_CORRUPT UINT64_MAX
#define GEN_INDEX (UINT64_MAX - 1)

/* Number of blocks that do not fit "[0, p) hold top, [p, n) hold top-1" for the best step
 * position p (stored in *best). top-1 may be 0 = never written, which only happens while
 * top == 1. Choosing the best p instead of taking the first drop makes one stale block in the
 * middle count as one bad block, not as everything after it. */
static uint64_t diskcheck_fit(const uint64_t *g, uint64_t n, uint64_t top, uint64_t *best)
{
    uint64_t bad = 0;
    if (top == 0) {   /* nothing written: every block must be zero, no step */
        for (uint64_t i = 0; i < n; i++)
            bad += g[i] != 0;
        *best = n;
        return bad;
    }
    /* bad(p) = #{i < p: g != top} + #{i >= p: g != top-1}. Start from bad(0) and walk p
     * upwards: moving block i into the prefix changes the count by d. */
    for (uint64_t i = 0; i < n; i++)
        bad += g[i] != top - 1;
    int64_t d = 0, dmin = 0;
    *best = 0;
    for (uint64_t i = 0; i < n; i++) {
        d += (int64_t)(g[i] != top) - (int64_t)(g[i] != top - 1);
        if (d < dmin) {
            dmin = d;
            *best = i + 1;
        }
    }
    return bad + dmin;
}

static int run_diskcheck(const char *spec)
{
    uint64_t mib = 0, unused, n;
    if (spec && *spec && parse_pair(spec, &mib, &unused)) {
        say("FERRY DISKCHECK failed bad=0 first=0 reason=badspec");
        say("FERRY DISKCHECK done");
        return 2;
    }
    int fd = disk_open(O_RDONLY, mib, &n);
    uint64_t *buf, *g = fd < 0 ? NULL : calloc(n ? n : 1, sizeof *g);
    if (fd < 0 || !g || posix_memalign((void **)&buf, PAGE, 256 * PAGE)) {
        say("FERRY DISKCHECK failed bad=0 first=0 reason=open");
        say("FERRY DISKCHECK done");
        return 1;
    }
    uint64_t maxgen = 0, written = 0;
    for (uint64_t i0 = 0; i0 < n; i0 += 256) {
        uint64_t k = n - i0 < 256 ? n - i0 : 256;
        if (io_full(fd, buf, k * PAGE, (off_t)(i0 * PAGE), 0)) {
            say("FERRY DISKCHECK failed bad=%" PRIu64 " first=%" PRIu64 " reason=io", n - i0, i0);
            say("FERRY DISKCHECK done");
            return 1;
        }
        for (uint64_t j = 0; j < k; j++) {
            uint64_t i = i0 + j, gen = 0;
            int st = blk_classify(buf + j * WORDS, i, &gen);
            g[i] = st == BLK_CORRUPT ? GEN_CORRUPT : st == BLK_INDEX ? GEN_INDEX : gen;
            if (st == BLK_VALID) {
                written++;
                if (gen > maxgen)
                    maxgen = gen;
            }
        }
    }
    /* A sweep writer leaves [G ... G G-1 ... G-1]: non-increasing from block 0, at most one
     * drop, exactly by one. G is normally block 0's generation; also try the maximum in case
     * block 0 itself is the damaged one. */
    uint64_t top = maxgen, p, bad = diskcheck_fit(g, n, top, &p);
    if (n && g[0] < GEN_INDEX && g[0] != maxgen) {
        uint64_t p0, bad0 = diskcheck_fit(g, n, g[0], &p0);
        if (bad0 < bad) {
            top = g[0];
            bad = bad0;
            p = p0;
        }
    }
    if (bad == 0) {
        say("FERRY DISKCHECK ok blocks=%" PRIu64 " gen=%" PRIu64 " written=%" PRIu64, n, maxgen,
            written);
    } else {
        uint64_t i = 0;
        while (g[i] == (i < p ? top : top - 1))   /* bad > 0: stops before n */
            i++;
        uint64_t want = i < p ? top : top - 1;
        const char *reason = g[i] == GEN_CORRUPT ? "corrupt"
                           : g[i] == GEN_INDEX   ? "index"
                           : g[i] == 0           ? "zero"
                           : g[i] < want         ? "stale"
                                                 : "newer";
        say("FERRY DISKCHECK failed bad=%" PRIu64 " first=%" PRIu64 " reason=%s", bad, i, reason);
    }
    say("FERRY DISKCHECK done");
    return bad ? 1 : 0;
}

/* ---------------------------------------------------------------- power button */

/* User processes other than init and this one that have not exited yet (zombies have: init reaps
 * them; kernel threads are not signalled). */
static int others_alive(void)
{
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    int alive = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 1 || pid == getpid())
            continue;
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%ld/stat", pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
            continue;
        buf[n] = 0;
        char state;
        unsigned long flags;
        char *p = strrchr(buf, ')');
        /* after "pid (comm)": state ppid pgrp session tty_nr tpgid flags */
        if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %lu", &state, &flags) != 2)
            continue;
        if (state != 'Z' && state != 'X' && !(flags & 0x00200000 /* PF_KTHREAD */))
            alive++;
    }
    closedir(d);
    return alive;
}

/* QMP system_powerdown raises an ACPI power button event; the `button` driver turns it into
 * KEY_POWER on an input device. Without a handler the guest would ignore it and the control
 * plane's graceful shutdown would time out. */
static int run_powerbtn(void)
{
    struct pollfd fds[32];
    int nfds = 0;
    for (int tries = 0; tries < 30 && nfds == 0; tries++) {
        if (tries)
            sleep_s(1);
        for (int i = 0; i < 32; i++) {
            char path[32];
            unsigned long keys[KEY_CNT / (8 * sizeof(unsigned long)) + 1] = { 0 };
            snprintf(path, sizeof path, "/dev/input/event%d", i);
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0)
                continue;
            if (ioctl(fd, EVIOCGBIT(EV_KEY, sizeof keys), keys) < 0 ||
                !(keys[KEY_POWER / (8 * sizeof(unsigned long))] &
                  (1ul << (KEY_POWER % (8 * sizeof(unsigned long)))))) {
                close(fd);
                continue;
            }
            fds[nfds].fd = fd;
            fds[nfds++].events = POLLIN;
        }
    }
    if (nfds == 0) {
        say("FERRY WARN no power button input device: system_powerdown will be ignored");
        return 1;
    }
    for (;;) {
        if (poll(fds, nfds, -1) < 0)
            continue;
        for (int i = 0; i < nfds; i++) {
            struct input_event ev[16];
            if (!(fds[i].revents & POLLIN))
                continue;
            ssize_t r = read(fds[i].fd, ev, sizeof ev);
            for (ssize_t j = 0; j < r / (ssize_t)sizeof ev[0]; j++) {
                if (ev[j].type != EV_KEY || ev[j].code != KEY_POWER || ev[j].value != 1)
                    continue;
                say("FERRY POWEROFF reason=power-button");
                /* Stop the workloads between syscalls (an in-flight O_SYNC write completes
                 * first), so the disk keeps a valid sweep pattern; then power off once they are
                 * gone (a blind pause would either waste the cutover's time or cut a slow one
                 * short), or after 5 s, as a stuck one must not keep the guest up for ever. */
                signal(SIGTERM, SIG_IGN);
                kill(-1, SIGTERM);
                for (double t0 = now(); others_alive() && now() - t0 < 5; )
                    sleep_s(0.002);
                sync();
                reboot(RB_POWER_OFF);
                say("FERRY WARN poweroff failed: %s", strerror(errno));
            }
        }
    }
}

/* ---------------------------------------------------------------- stream */

#define STREAM_TICK 0.010
#define ECHO_MAX 64

/* One client: "n=<counter> echo=<last line received>" every 10 ms, counter from 0 and +1 per
 * line, so the client proves no loss, duplicate or reorder (TCP's, across a migration) and sees
 * its own lines come back (both directions work). A late tick (the VM was paused) sends one
 * line, not a burst: the gap shows as the client's longest silence. */
static int stream_client(int fd)
{
    char echo[ECHO_MAX + 1] = "-", part[ECHO_MAX + 1];
    size_t plen = 0;
    uint64_t n = 0;
    double next = now();
    for (;;) {
        double wait = next - now();
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int r = poll(&p, 1, wait > 0 ? (int)(wait * 1000) + 1 : 0);
        if (r < 0 && errno != EINTR)
            return 1;
        if (r > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
            char buf[256];
            ssize_t got = read(fd, buf, sizeof buf);
            if (got <= 0)
                return got == 0 ? 0 : 1;
            for (ssize_t i = 0; i < got; i++) {
                char c = buf[i];
                if (c == '\n') {
                    part[plen] = 0;
                    if (plen > 0)
                        memcpy(echo, part, plen + 1);
                    plen = 0;
                } else if (c != '\r' && c > ' ' && c < 127 && plen < ECHO_MAX) {
                    part[plen++] = c;
                }
            }
        }
        if (now() < next)
            continue;
        char line[128];
        int len = snprintf(line, sizeof line, "n=%" PRIu64 " echo=%s\n", n++, echo);
        for (const char *q = line; len > 0;) {
            ssize_t w = write(fd, q, len);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return w == 0 ? 0 : 1;
            q += w;
            len -= w;
        }
        next += STREAM_TICK;
        if (next < now())
            next = now() + STREAM_TICK;
    }
}

static int run_stream(const char *arg)
{
    int port = atoi(arg);
    if (port <= 0 || port > 65535) {
        say("FERRY ERROR stream: bad port '%s'", arg);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGCHLD, SIG_IGN); /* children are reaped by the kernel */
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY) };
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 8) < 0) {
        say("FERRY ERROR stream: cannot listen on port %d: %s", port, strerror(errno));
        return 1;
    }
    say("FERRY STREAM port=%d", port);
    for (;;) {
        int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pid_t pid = fork();
        if (pid == 0) {
            close(ls);
            _exit(stream_client(fd));
        }
        close(fd);
    }
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    memcpy(&MAGIC, "FERRYBLK", 8);
    for (unsigned w = 0; w < WORDS; w++)
        mix[w] = w * 0x9E3779B97F4A7C15ull;
    const char *mode = argc > 1 ? argv[1] : "";
    const char *arg = argc > 2 ? argv[2] : "";
    if (!strcmp(mode, "hb") && *arg)
        run_hb(arg);
    if (!strcmp(mode, "mem") && *arg)
        return run_mem(arg);
    if (!strcmp(mode, "disk") && *arg)
        return run_disk(arg);
    if (!strcmp(mode, "diskcheck"))
        return run_diskcheck(arg);
    if (!strcmp(mode, "powerbtn"))
        return run_powerbtn();
    if (!strcmp(mode, "stream") && *arg)
        return run_stream(arg);
    fprintf(stderr, "usage: %s hb BOOTID | mem MiB[:MiB/s] | disk MiB/s[:MiB] | diskcheck [MiB]"
                    " | powerbtn | stream PORT\n", argv[0]);
    return 2;
}
