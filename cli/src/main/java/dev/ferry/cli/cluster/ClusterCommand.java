package dev.ferry.cli.cluster;

import dev.ferry.cli.GroupCommand;
import picocli.CommandLine.Command;

/** {@code ferry cluster ...}: a whole cluster (controller + agents) on this machine, for trying Ferry out. */
@Command(name = "cluster", description = "a local cluster: one controller and N agents on 127.0.0.1",
    subcommands = {ClusterUp.class, ClusterDown.class, ClusterStatus.class})
public final class ClusterCommand extends GroupCommand {}
