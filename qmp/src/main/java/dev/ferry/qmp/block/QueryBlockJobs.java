package dev.ferry.qmp.block;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.Members;
import java.util.List;
import java.util.Optional;

/** {@code query-block-jobs}: the block jobs (mirror, stream, commit, backup) of this QEMU. */
public record QueryBlockJobs() implements QmpCommand<List<QueryBlockJobs.BlockJobInfo>> {

  @Override
  public String name() {
    return "query-block-jobs";
  }

  @Override
  public List<BlockJobInfo> parse(JsonNode ret) {
    return Members.list(ret, "query-block-jobs return", BlockJobInfo::parse);
  }

  /**
   * QAPI {@code BlockJobInfo}.
   *
   * @param type QAPI {@code JobType}, e.g. {@code mirror}
   * @param device the job id (QAPI calls it {@code device})
   * @param len bytes to process; may grow while the guest writes
   * @param offset bytes processed so far; {@code offset == len} once a mirror is in sync
   * @param busy whether the job is doing I/O right now
   * @param paused whether the job is paused
   * @param speed the rate limit, bytes per second, 0 for none
   * @param ready whether a mirror may be completed (it reported {@code BLOCK_JOB_READY})
   * @param status QAPI {@code JobStatus}: {@code created}, {@code running}, {@code paused},
   *     {@code ready}, {@code standby}, {@code waiting}, {@code pending}, {@code aborting},
   *     {@code concluded}, {@code undefined}, {@code null}
   * @param error why the job failed, once it has (QEMU's description)
   */
  public record BlockJobInfo(String type, String device, long len, long offset, boolean busy,
      boolean paused, long speed, boolean ready, String status, Optional<String> error) {

    static BlockJobInfo parse(JsonNode job) {
      return new BlockJobInfo(Members.text(job, "type"), Members.text(job, "device"),
          Members.integer64(job, "len"), Members.integer64(job, "offset"),
          Members.bool(job, "busy"), Members.bool(job, "paused"), Members.integer64(job, "speed"),
          Members.bool(job, "ready"), Members.text(job, "status"),
          Members.optionalText(job, "error"));
    }
  }
}
