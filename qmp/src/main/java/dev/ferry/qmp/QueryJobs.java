package dev.ferry.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Optional;

/**
 * {@code query-jobs}: every job of this QEMU through the generic job API, also concluded ones
 * waiting for {@link JobDismiss}.
 */
public record QueryJobs() implements QmpCommand<List<QueryJobs.JobInfo>> {

  @Override
  public String name() {
    return "query-jobs";
  }

  @Override
  public List<JobInfo> parse(JsonNode ret) {
    return Members.list(ret, "query-jobs return", JobInfo::parse);
  }

  /**
   * QAPI {@code JobInfo}.
   *
   * @param id the job id
   * @param type QAPI {@code JobType}, e.g. {@code mirror}
   * @param status QAPI {@code JobStatus}, e.g. {@code running}, {@code ready},
   *     {@code concluded}
   * @param currentProgress progress so far, in units of the job (bytes for a mirror)
   * @param totalProgress the current estimate of the total; may grow
   * @param error why the job failed, for a concluded job that failed
   */
  public record JobInfo(String id, String type, String status, long currentProgress,
      long totalProgress, Optional<String> error) {

    static JobInfo parse(JsonNode job) {
      return new JobInfo(Members.text(job, "id"), Members.text(job, "type"),
          Members.text(job, "status"), Members.integer64(job, "current-progress"),
          Members.integer64(job, "total-progress"), Members.optionalText(job, "error"));
    }
  }
}
