import type { Config } from './config/index.ts';

/**
 * A listener that could not start, as one line naming the setting to change (exit 2), or
 * undefined for any other error. The port or address in the error says which listener it was.
 */
export function listenErrorMessage(error: unknown, config: Config | undefined): string | undefined {
  const { code, port, address, hostname } = error as NodeJS.ErrnoException & { port?: number; address?: string; hostname?: string };
  if (code === 'EADDRINUSE') {
    const setting = port === config?.demoMcpPort ? 'DEMO_MCP_PORT' : port === config?.metricsPort ? 'METRICS_PORT' : 'PORT';
    return `${setting}: port ${port} is already in use`;
  }
  if (code !== 'ENOTFOUND' && code !== 'EADDRNOTAVAIL') return undefined;
  const host = hostname ?? address ?? '';
  const setting = host === config?.metricsHost && host !== config?.host ? 'METRICS_HOST' : 'HOST';
  return code === 'ENOTFOUND' ? `${setting}: cannot resolve the host name ${host}` : `${setting}: ${host} is not an address of this machine`;
}
