package dev.ferry.api.agent;

/**
 * {@code POST /agent/vms/NAME/warm-source/passes}: prepare pass {@code pass} of a warm migration.
 * Pass 0 exports each disk whole; pass N (N &gt; 0) first starts bitmap N and stops bitmap N-1 in
 * one transaction, then exports each disk with bitmap N-1 (the writes since pass N-1 began), and
 * drops what pass N-1 used. Asking for the current pass again answers it unchanged.
 */
public record WarmPassRequest(String migrationId, int pass) {}
