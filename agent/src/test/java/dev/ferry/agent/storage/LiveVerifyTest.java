package dev.ferry.agent.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The comparison and the dirty-bitmap lookup of a live verification, over fake exports. */
class LiveVerifyTest {

  /** An export over a byte array; block status answers from {@code extents}, at most two per call. */
  record FakeExport(byte[] data, List<long[]> extents) implements ExportReader {
    @Override
    public long size() {
      return data.length;
    }

    @Override
    public byte[] read(long offset, int length) {
      return Arrays.copyOfRange(data, (int) offset, (int) offset + length);
    }

    @Override
    public List<Extent> blockStatus(long offset, long length) {
      var out = new ArrayList<Extent>();
      for (long[] e : extents) { // {start, length, flags}
        long end = e[0] + e[1];
        if (end <= offset || out.size() == 2) continue;
        out.add(new Extent(end - Math.max(offset, e[0]), (int) e[2]));
      }
      return out;
    }

    @Override
    public void close() {}
  }

  static FakeExport export(int size) {
    return new FakeExport(new byte[size], List.of());
  }

  @Test
  void compare_differentBlocks_mergesAdjacentRangesAcrossChunks() {
    int size = LiveVerify.CHUNK * 2;
    FakeExport a = export(size);
    FakeExport b = export(size);
    b.data()[4096 * 3 + 7] = 1;                  // block 3
    b.data()[LiveVerify.CHUNK - 1] = 1;          // last block of chunk 0 ...
    b.data()[LiveVerify.CHUNK] = 1;              // ... and first of chunk 1: one range
    b.data()[size - 1] = 1;

    List<LiveVerify.Range> ranges = LiveVerify.compare(a, b);

    assertThat(ranges).containsExactly(
        new LiveVerify.Range(4096 * 3, 4096),
        new LiveVerify.Range(LiveVerify.CHUNK - 4096, 8192),
        new LiveVerify.Range(size - 4096, 4096));
  }

  @Test
  void compare_sameData_noRanges() {
    assertThat(LiveVerify.compare(export(1 << 20), export(1 << 20))).isEmpty();
  }

  @Test
  void allDirty_rangeInsideDirtyExtentsAnsweredInPieces_isTrue() {
    var bitmap = new FakeExport(new byte[0], List.of(
        new long[] {0, 65536, 0}, new long[] {65536, 65536, 1}, new long[] {131072, 65536, 1},
        new long[] {196608, 65536, 1}, new long[] {262144, 65536, 0}));

    assertThat(LiveVerify.allDirty(bitmap, new LiveVerify.Range(70000, 190000))).isTrue();
    assertThat(LiveVerify.allDirty(bitmap, new LiveVerify.Range(65536, 262144 - 65536 + 1))).isFalse();
    assertThat(LiveVerify.allDirty(bitmap, new LiveVerify.Range(0, 4096))).isFalse();
  }
}
