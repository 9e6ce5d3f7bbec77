package dev.ferry.cli.vm;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.ApiPaths;
import dev.ferry.api.VmUnlockRequest;
import dev.ferry.cli.ApiCommand;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.client.ControllerClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ferry vm unlock NAME --reason TEXT}: {@code POST /api/vms/NAME/unlock}. For a VM whose
 * migration is stuck for good (a host lost): the migration ends failed where it stopped, with the
 * reason kept in its record, and the VM can be acted on again. Look at both hosts first.
 */
@Command(name = "unlock", description = "end a VM's stuck migration where it stopped (audited); check both hosts first")
final class VmUnlock extends ApiCommand {

  @Parameters(index = "0", paramLabel = "NAME", description = "VM name")
  String name;

  @Option(names = "--reason", paramLabel = "TEXT", required = true,
      description = "why, in your words: kept in the migration's record")
  String reason;

  VmUnlock(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void run(ControllerClient api) {
    String path = ApiPaths.VM_UNLOCK.replace("{name}", ControllerClient.seg(name));
    JsonNode answer = api.post(path, new VmUnlockRequest(reason), ControllerClient.TIMEOUT);
    String id = answer == null || answer.get("id") == null ? "?" : answer.get("id").asText();
    String phase = answer == null || answer.get("phase") == null ? "?" : answer.get("phase").asText();
    out().println("vm " + name + ": unlocked; migration " + id + " ended failed in phase " + phase
        + " (check both hosts for the guest and leftovers)");
  }
}
