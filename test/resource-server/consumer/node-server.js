// A plain node:http MCP server built only from the installed package, plus a route behind requireBearer.
import { createServer } from 'node:http';
import { createTokenVerifier, metadataUrlFor } from '@portcullis/resource-server';
import { mcpRequestListener, requireBearer } from '@portcullis/resource-server/node';
import { tools } from './tools.js';

const { ISSUER: issuer, RESOURCE: resource, PORT: port } = process.env;
const mcp = mcpRequestListener({ issuer, resource, scopePrefix: 'notes', tools });
const bearer = { verifier: createTokenVerifier({ issuer, resource }), metadataUrl: metadataUrlFor(resource) };
createServer(async (req, res) => {
  if (req.url !== '/me') return mcp(req, res);
  const token = await requireBearer(req, res, bearer);
  if (token) res.end(JSON.stringify({ subject: token.subject }));
}).listen(Number(port), '127.0.0.1', () => console.log(`listening on node ${process.version}`));
