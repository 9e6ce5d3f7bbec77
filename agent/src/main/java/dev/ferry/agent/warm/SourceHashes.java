package dev.ferry.agent.warm;

import dev.ferry.api.agent.ColdExport;
import dev.ferry.nbd.Extent;
import dev.ferry.nbd.MetaContexts;
import dev.ferry.nbd.NbdAddress;
import dev.ferry.nbd.NbdClient;
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
 * <p>A pass whose hashing did not end (an agent restart, an error) leaves chunks whose kept hash
 * may be stale, and the next pass cannot tell which: the ledger is then forgotten and the cutover
 * hashes the disks whole, as a cold migration does. So is it with TLS, where the source's own
 * server admits only the target's certificate.
 */
final class SourceHashes {

  private static final Logger log = LoggerFactory.getLogger(SourceHashes.class);
  private static final long AWAIT_MS = TimeUnit.MINUTES.toMillis(30);

  private record Job(int pass, Thread thread) {}

  private final Map<String, Job> jobs = new ConcurrentHashMap<>();

  /** Starts hashing pass {@code n}'s chunks, unless it runs or ran; waits for an earlier pass's first. */
  synchronized void start(String vm, Path ledgerFile, String host, int port, boolean tls, int n,
      List<ColdExport.ColdExportDisk> disks) {
    Job job = jobs.get(vm);
    if (job != null && job.pass() == n && job.thread().isAlive()) return;
    await(vm);
    HashLedger ledger = HashLedger.read(ledgerFile).orElse(null);
    if (ledger == null || ledger.pass() >= n) return;
    if (tls || ledger.pass() != n - 1) {
      if (ledger.pass() >= 0 || ledger.unknownChunks() == 0) {
        log.info("vm {}: warm pass {}: source hashes not kept ({}); the cutover hashes the disks whole", vm, n,
            tls ? "tls" : "pass " + (n - 1) + " was not hashed");
      }
      ledger.forgotten().write(ledgerFile);
      return;
    }
    Thread t = Thread.ofPlatform().name("ferry-warm-hash-" + vm + "-" + n).unstarted(() -> run(vm, ledgerFile,
        ledger, host, port, n, disks));
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

  private static void run(String vm, Path ledgerFile, HashLedger ledger, String host, int port, int n,
      List<ColdExport.ColdExportDisk> disks) {
    long t0 = System.nanoTime();
    Map<String, Map<Integer, String>> hashed = new HashMap<>();
    int count = 0;
    try {
      ByteBuffer buffer = ByteBuffer.allocateDirect(ChunkHashes.READ);
      for (ColdExport.ColdExportDisk d : disks) {
        long chunk = ledger.chunkBytes(d.disk());
        List<String> contexts = new ArrayList<>(List.of(MetaContexts.BASE_ALLOCATION));
        String bitmap = n == 0 ? null : MetaContexts.dirtyBitmap(WarmSources.BITMAP + (n - 1));
        if (bitmap != null) contexts.add(bitmap);
        Map<Integer, String> out = new HashMap<>();
        try (NbdClient c = NbdClient.connect(NbdAddress.tcp(host, port), d.export(), contexts)) {
          BitSet chunks = new BitSet();
          if (bitmap == null) {
            chunks.set(0, ledger.chunks(d.disk()));
          } else {
            List<long[]> dirty = new ArrayList<>();
            for (Extent e : c.blockStatus(0, c.size(), bitmap)) {
              if (e.has(MetaContexts.STATE_DIRTY)) dirty.add(new long[] {e.offset(), e.end()});
            }
            chunks = ChunkHashes.touched(dirty, chunk);
          }
          for (int i = chunks.nextSetBit(0); i >= 0; i = chunks.nextSetBit(i + 1)) {
            out.put(i, ChunkHashes.chunk(c, i, chunk, buffer));
          }
        }
        count += out.size();
        hashed.put(d.disk(), out);
      }
      ledger.with(n, hashed).write(ledgerFile);
      log.info("vm {}: warm pass {}: source hashed {} chunks in {} ms", vm, n, count,
          (System.nanoTime() - t0) / 1_000_000);
    } catch (Exception e) {
      log.warn("vm {}: warm pass {}: source hashing failed ({}); the cutover hashes the disks whole", vm, n,
          e.getMessage() == null ? e.toString() : e.getMessage());
      ledger.forgotten().write(ledgerFile);
    }
  }
}
