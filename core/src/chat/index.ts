export { ChatStore } from './store.js';
export { ChatService } from './service.js';
export { MAX_TEXT_CHARS } from './protocol.js';
