/** The key prefix of one log: AUDIT_S3_PREFIX, and a named log (the demo MCP server's) below it. */
export function s3Prefix(prefix: string, logName?: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  return [trimmed, logName].filter(Boolean).join('/');
}
