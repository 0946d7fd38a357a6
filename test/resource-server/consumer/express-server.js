// An Express MCP server built only from the installed package, plus a route behind our bearerAuth
// and one behind the SDK's own requireBearerAuth.
import express from 'express';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { createTokenVerifier, metadataUrlFor } from '@portcullis/resource-server';
import { bearerAuth, mcpMiddleware, sdkTokenVerifier } from '@portcullis/resource-server/express';
import { tools } from './tools.js';

const { ISSUER: issuer, RESOURCE: resource, PORT: port } = process.env;
const verifier = createTokenVerifier({ issuer, resource });
const app = express();
app.use(mcpMiddleware({ issuer, resource, scopePrefix: 'notes', tools }));
app.get('/me', bearerAuth({ verifier, metadataUrl: metadataUrlFor(resource) }), (req, res) => res.json({ subject: req.token.subject }));
app.get('/whoami', requireBearerAuth({ verifier: sdkTokenVerifier(verifier) }), (req, res) => {
  res.json({ subject: req.auth.extra.subject, scopes: req.auth.scopes });
});
app.listen(Number(port), '127.0.0.1', () => console.log(`listening on node ${process.version}`));
