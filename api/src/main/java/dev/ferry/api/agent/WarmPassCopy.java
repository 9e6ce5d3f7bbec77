package dev.ferry.api.agent;

/**
 * {@code POST /agent/warm-copies/ID/passes}: pull pass {@code pass} from the source's exports:
 * everything allocated for pass 0 ({@code bitmap} null), else only what {@code bitmap} marks dirty
 * (dirty ranges that now read as zero are zeroed, not sent). A repeat of the pass under way or
 * done answers its status; a failed pass is run again. {@code last}: the cutover's final pass, the
 * guest off; once it is copied the copier's writer lets go of the images, which the VM's QEMU
 * opens next ({@code POST …/attach} waits for that).
 */
public record WarmPassCopy(int pass, ColdExport source, String bitmap, boolean last) {

  /** A pass while the guest runs. */
  public WarmPassCopy(int pass, ColdExport source, String bitmap) {
    this(pass, source, bitmap, false);
  }
}
