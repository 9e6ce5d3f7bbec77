package dev.ferry.agent.pool;

import java.nio.file.Path;

/**
 * A storage pool of this host: a directory where disk images, kernels and initrds may live.
 *
 * @param path absolute and normalized, as the user gave it; symlinks are followed only when a
 *     path is checked against it, so a pool directory may itself be a link
 */
public record Pool(String name, Path path, boolean shared) {

  public Pool {
    if (!path.isAbsolute()) throw new IllegalArgumentException("pool " + name + " path " + path + " must be absolute");
    path = path.normalize();
  }
}
