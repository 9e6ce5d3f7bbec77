import dev.ferry.nbd.*;
import dev.ferry.nbd.copy.*;
import java.nio.file.*;
import java.util.List;

/** One Ferry copy from an NBD export (argv: host port export rawTarget size). */
public class CopyBench {
  public static void main(String[] a) throws Exception {
    NbdAddress at = NbdAddress.tcp(a[0], Integer.parseInt(a[1]));
    String export = a[2];
    Path raw = Path.of(a[3]);
    CopyPlan plan;
    try (NbdClient c = NbdClient.connect(at, export, List.of(MetaContexts.BASE_ALLOCATION))) {
      plan = CopyPlan.fromAllocation(c.size(), c.blockStatus(0, c.size(), MetaContexts.BASE_ALLOCATION));
    }
    long t0 = System.nanoTime();
    DiskCopy copy = new DiskCopy(plan, () -> NbdClient.connect(at, export, List.of(MetaContexts.BASE_ALLOCATION)),
        () -> new RawFileTarget(raw), DiskCopy.Options.defaults());
    copy.run();
    long ms = (System.nanoTime() - t0) / 1_000_000;
    System.out.printf("ferry %d ms sent %d skipped %d%n", ms, copy.copiedBytes(), copy.skippedBytes());
  }
}
