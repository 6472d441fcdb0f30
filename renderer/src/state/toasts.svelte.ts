// Short, dismissible notices (errors and confirmations) announced through an aria-live region.
export interface Toast {
  id: number;
  kind: 'info' | 'error';
  text: string;
}

export class ToastState {
  items = $state<Toast[]>([]);
  private next = 1;

  show(text: string, kind: Toast['kind'] = 'info', ttlMs = kind === 'error' ? 8000 : 4000): number {
    const id = this.next++;
    this.items.push({ id, kind, text });
    // Keep the stack short: the oldest goes first.
    if (this.items.length > 4) this.items.shift();
    setTimeout(() => this.dismiss(id), ttlMs);
    return id;
  }

  error(text: string): number {
    return this.show(text, 'error');
  }

  dismiss(id: number): void {
    const i = this.items.findIndex((t) => t.id === id);
    if (i >= 0) this.items.splice(i, 1);
  }
}
