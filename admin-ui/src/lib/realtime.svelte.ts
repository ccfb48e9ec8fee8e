// One realtime (SSE) connection for the dashboard, PocketBase's protocol: the server
// names the client in `PB_CONNECT`, then a POST sets the subscriptions under the
// superuser's token. EventSource reconnects by itself; each new PB_CONNECT sends the
// current subscriptions again.

import { auth } from './api.svelte';
import type { RecordModel } from './types';

export type RealtimeEvent = { action: 'create' | 'update' | 'delete'; record: RecordModel };
type Listener = (e: RealtimeEvent) => void;

class Realtime {
  private source: EventSource | null = null;
  private clientId = '';
  private listeners = new Map<string, Set<Listener>>();
  private pending: ReturnType<typeof setTimeout> | null = null;
  /** Whether the stream is connected (for a "live" badge). */
  connected = $state(false);

  /** Calls `fn` for every event of `topic` until the returned function is called. */
  subscribe(topic: string, fn: Listener): () => void {
    let set = this.listeners.get(topic);
    if (!set) {
      set = new Set();
      this.listeners.set(topic, set);
      this.source?.addEventListener(topic, this.dispatch);
    }
    set.add(fn);
    this.ensure();
    this.sync();
    return () => {
      set.delete(fn);
      if (set.size === 0) {
        this.listeners.delete(topic);
        this.source?.removeEventListener(topic, this.dispatch);
        this.sync();
      }
      if (this.listeners.size === 0) this.close();
    };
  }

  private dispatch = (e: Event) => {
    const msg = e as MessageEvent;
    let data: RealtimeEvent;
    try {
      data = JSON.parse(msg.data);
    } catch {
      return;
    }
    for (const fn of this.listeners.get(msg.type) ?? []) fn(data);
  };

  private ensure() {
    if (this.source) return;
    const source = new EventSource('/api/realtime');
    this.source = source;
    source.addEventListener('PB_CONNECT', (e) => {
      this.clientId = (e as MessageEvent).lastEventId || JSON.parse((e as MessageEvent).data).clientId;
      this.connected = true;
      this.sync(true);
    });
    source.onerror = () => {
      this.connected = false;
    };
    for (const topic of this.listeners.keys()) source.addEventListener(topic, this.dispatch);
  }

  /** Sends the subscription set, batched over a tick. */
  private sync(now = false) {
    if (!this.clientId) return;
    if (this.pending) clearTimeout(this.pending);
    const send = () => {
      this.pending = null;
      fetch('/api/realtime', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(auth.token ? { Authorization: auth.token } : {}) },
        body: JSON.stringify({ clientId: this.clientId, subscriptions: [...this.listeners.keys()] }),
      }).catch(() => {});
    };
    if (now) send();
    else this.pending = setTimeout(send, 0);
  }

  private close() {
    this.source?.close();
    this.source = null;
    this.clientId = '';
    this.connected = false;
  }
}

export const realtime = new Realtime();
