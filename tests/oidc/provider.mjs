// A real OpenID Provider for the single sign-on tests: panva's certified oidc-provider,
// configured with one confidential client and the people in a fixture file.
//
//   node tests/oidc/provider.mjs <port> <fixture.json>
//
// The fixture: {"client_id", "client_secret", "redirect_uris": [...],
//               "accounts": {"<login>": {"email", "email_verified", "name"}}}
// Signing in uses the provider's own development pages (devInteractions): type a login
// from the fixture (any password), then "Continue" to consent. An unknown login is refused
// by findAccount, as a real provider refuses someone it does not know.
import { readFileSync } from 'node:fs';

import Provider from 'oidc-provider';

const [port, fixturePath] = process.argv.slice(2);
if (!port || !fixturePath) {
  console.error('usage: node provider.mjs <port> <fixture.json>');
  process.exit(2);
}
const fixture = JSON.parse(readFileSync(fixturePath, 'utf8'));

const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [{
    client_id: fixture.client_id,
    client_secret: fixture.client_secret,
    redirect_uris: fixture.redirect_uris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified', 'xms_edov'],
    profile: ['name'],
  },
  async findAccount(ctx, sub) {
    const person = fixture.accounts[sub];
    if (!person) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, ...person };
      },
    };
  },
  pkce: { required: () => true },
  cookies: { keys: ['sandpit-test-oidc-cookie-key'] },
  features: { devInteractions: { enabled: true } },
});
// Plain HTTP on 127.0.0.1 only: this provider exists for the tests.
provider.proxy = false;

provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
