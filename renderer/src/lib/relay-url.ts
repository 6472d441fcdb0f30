// Where the web client finds its relay by default: the relay that served the page, at /ws. The rules
// for relay addresses live in core (one normaliser for the CLI, invites and the app); this only calls it.
export { RELAY_WS_PATH, normaliseRelayUrl, sameOriginRelayUrl } from '../../../core/src/relay/url.js';
