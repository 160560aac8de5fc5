/** What became of direct messages since the server started, counted as it happens. */
export class DirectMessageCounters {
  stored = 0;
  delivered = 0;
  acknowledged = 0;
  refused = 0;
}
