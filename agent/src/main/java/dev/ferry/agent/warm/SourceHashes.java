package dev.ferry.agent.warm;

import dev.ferry.api.agent.ColdExport;
import dev.ferry.nbd.Extent;
import dev.ferry.nbd.MetaContexts;
import dev.ferry.nbd.NbdAddress;
import dev.ferry.nbd.NbdClient;
import dev.ferry.nbd.NbdOptions;
import dev.ferry.nbd.copy.ChunkHashes;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The source's half of a warm migration's {@link HashLedger}: while the target copies pass N, a
 * thread here hashes the chunks pass N covers (pass 0: all of them; later: those bitmap N-1
 * marks), reading through the pass's own export of the running QEMU, so the hash is of what the
 * guest sees and is taken after bitmap N started recording.
 *
 * <p>Over TLS it reads as the target does ({@link WarmPass#options}: {@code NBD_OPT_STARTTLS}),
 * with this host's own client certificate, which the source's server lets in beside the
 * target's.
 *
 * <p>A pass whose hashing did not end (an agent restart, an error) leaves chunks whose kept hash
 * may be stale, and the next pass cannot tell which: the ledger is then forgotten and the cutover
 * hashes the disks whole, as a cold migration does.
 */
final class SourceHashes {

  private static final Logger log = LoggerFactory.getLogger(SourceHashes.class);
  private static final long AWAIT_MS = TimeUnit.MINUTES.toMillis(30);

  private record Job(int pass, Thread thread) {}

  private final Map<String, Job> jobs = new ConcurrentHashMap<>();
  private final Path tlsDir;

  SourceHashes(Path tlsDir) {
    this.tlsDir = tlsDir;
  }

  /**
   * Starts hashing pass {@code n}'s chunks, unless it runs or ran; waits for an earlier pass's
   * first. The ledger (a hash per MiB of disk) is read on the hashing thread: reading it here took
   * up to 6 ms of the final pass's answer, the downtime's.
   */
  synchronized void start(String vm, Path ledgerFile, ColdExport export, int n) {
    Job job = jobs.get(vm);
    if (job != null && job.pass() == n && job.thread().isAlive()) return;
    await(vm);
    Thread t = Thread.ofPlatform().name("ferry-warm-hash-" + vm + "-" + n).unstarted(() -> {
      HashLedger ledger = HashLedger.read(ledgerFile).orElse(null);
      if (ledger == null || ledger.pass() >= n) return;
      if (ledger.pass() != n - 1 || (export.tls() && tlsDir == null)) {
        log.info("vm {}: warm pass {}: source hashes not kept ({}); the cutover hashes the disks whole", vm, n,
            ledger.pass() != n - 1 ? "pass " + (n - 1) + " was not hashed" : "tls without a tls directory");
        ledger.forgotten().write(ledgerFile);
        return;
      }
      run(vm, ledgerFile, ledger, export, n);
    });
    jobs.put(vm, new Job(n, t));
    t.start();
  }

  /** Waits until the VM's hashing thread, if any, ended. */
  void await(String vm) {
    Job job = jobs.get(vm);
    if (job == null) return;
    try {
      job.thread().join(AWAIT_MS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    jobs.remove(vm, job);
  }

  private void run(String vm, Path ledgerFile, HashLedger ledger, ColdExport export, int n) {
    long t0 = System.nanoTime();
    Map<String, Map<Integer, String>> hashed = new HashMap<>();
    int count = 0;
    long planNanos = 0;
    try {
      String bitmap = n == 0 ? null : WarmSources.BITMAP + (n - 1);
      NbdAddress address = NbdAddress.tcp(export.host(), export.port());
      NbdOptions options = WarmPass.options(export, tlsDir);
      ByteBuffer buffer = ByteBuffer.allocateDirect(ChunkHashes.READ);
      for (ColdExport.ColdExportDisk d : export.disks()) {
        long chunk = ledger.chunkBytes(d.disk());
        Map<Integer, String> out = new HashMap<>();
        try (NbdClient c = NbdClient.connect(address, d.export(), List.of(MetaContexts.BASE_ALLOCATION), options)) {
          BitSet chunks = new BitSet();
          if (bitmap == null) {
            chunks.set(0, ledger.chunks(d.disk()));
          } else {
            chunks = ChunkHashes.touched(dirty(address, options, d.export(), bitmap), chunk);
          }
          planNanos = System.nanoTime() - t0;
          for (int i = chunks.nextSetBit(0); i >= 0; i = chunks.nextSetBit(i + 1)) {
            out.put(i, ChunkHashes.chunk(c, i, chunk, buffer));
          }
        }
        count += out.size();
        hashed.put(d.disk(), out);
      }
      long hashedAt = System.nanoTime();
      ledger.with(n, hashed).write(ledgerFile);
      long end = System.nanoTime();
      log.info("vm {}: warm pass {}: source hashed {} chunks in {} ms (connect and dirty map {} ms, ledger written"
          + " in {} ms)", vm, n, count, (end - t0) / 1_000_000, planNanos / 1_000_000, (end - hashedAt) / 1_000_000);
    } catch (Exception e) {
      log.warn("vm {}: warm pass {}: source hashing failed ({}); the cutover hashes the disks whole", vm, n,
          e.getMessage() == null ? e.toString() : e.getMessage());
      ledger.forgotten().write(ledgerFile);
    }
  }

  /** The ranges {@code bitmap} marks dirty, read as the target's pass reads them. */
  private static List<long[]> dirty(NbdAddress address, NbdOptions options, String export, String bitmap)
      throws Exception {
    List<long[]> out = new ArrayList<>();
    String context = MetaContexts.dirtyBitmap(bitmap);
    try (NbdClient c = NbdClient.connect(address, export, List.of(MetaContexts.BASE_ALLOCATION, context), options)) {
      for (Extent e : c.blockStatus(0, c.size(), context)) {
        if (e.has(MetaContexts.STATE_DIRTY)) out.add(new long[] {e.offset(), e.end()});
      }
    }
    return out;
  }
}
