export { ContactStore, type StoredContact } from './store.js';
