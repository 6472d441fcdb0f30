// Which dialog is open and what it is about. One at a time, like every desktop messenger.
export type DialogKind = 'invite' | 'add-contact' | 'settings' | 'safety' | 'open-link' | 'downloads' | 'about';

export class UiState {
  dialog = $state<DialogKind | null>(null);
  /** Prefilled invite for the add-contact dialog (from a deep link). */
  pendingInvite = $state('');
  /** The contact the safety-number dialog is about. */
  safetyFor = $state<string | null>(null);
  /** The link the user clicked, awaiting confirmation. */
  linkToOpen = $state<string | null>(null);
  /** Narrow windows show either the list or the chat. */
  showListOnNarrow = $state(true);

  open(kind: DialogKind): void {
    this.dialog = kind;
  }

  close(): void {
    this.dialog = null;
    this.linkToOpen = null;
  }

  askOpenLink(href: string): void {
    this.linkToOpen = href;
    this.dialog = 'open-link';
  }

  showSafety(contactId: string): void {
    this.safetyFor = contactId;
    this.dialog = 'safety';
  }

  addContact(invite = ''): void {
    this.pendingInvite = invite;
    this.dialog = 'add-contact';
  }
}
