package dev.ferry.qmp.block;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.ArgumentMap;
import java.util.Map;

/**
 * {@code block-job-cancel}: stops a block job. For a mirror that is READY and not forced, QEMU
 * completes the job without pivoting, leaving a consistent copy on the target; QEMU 7.2 then
 * emits {@code BLOCK_JOB_COMPLETED}, not {@code BLOCK_JOB_CANCELLED}.
 *
 * @param device the job id (QAPI calls it {@code device})
 * @param force cancel a READY mirror for real (no consistent copy), and a paused job too
 */
public record BlockJobCancel(String device, boolean force) implements QmpCommand<Void> {

  public BlockJobCancel {
    ArgumentMap.requireName(device, "device");
  }

  /** Without {@code force}: a READY mirror finishes with a consistent copy. */
  public BlockJobCancel(String device) {
    this(device, false);
  }

  @Override
  public String name() {
    return "block-job-cancel";
  }

  @Override
  public Map<String, ?> arguments() {
    return ArgumentMap.create().with("device", device).with("force", force).build();
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
