package dev.ferry.api.agent;

/** One disk's mirror to the target of a live migration, as {@code query-block-jobs} reports it. */
public record MirrorProgress(String disk, String job, String status, boolean ready, long offset, long length) {}
