// App-wide state: the hash route, the collections, the theme and notices.

import { api } from './api.svelte';
import type { Collection } from './types';

/** `#/c/posts/schema` → ['c', 'posts', 'schema']. */
function parseHash(): string[] {
  return location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
}

class Router {
  parts = $state<string[]>(parseHash());
  constructor() {
    window.addEventListener('hashchange', () => (this.parts = parseHash()));
  }
  go(...parts: string[]) {
    location.hash = '#/' + parts.map(encodeURIComponent).join('/');
  }
}
export const router = new Router();

export function href(...parts: string[]): string {
  return '#/' + parts.map(encodeURIComponent).join('/');
}

class Collections {
  list = $state<Collection[]>([]);
  loaded = $state(false);
  async reload() {
    this.list = await api.collections();
    this.loaded = true;
  }
  byIdOrName(key: string): Collection | undefined {
    return this.list.find((c) => c.name === key || c.id === key);
  }
}
export const collections = new Collections();

type Theme = 'system' | 'light' | 'dark';
class ThemeState {
  mode = $state<Theme>((localStorage.getItem('basalt_admin_theme') as Theme) || 'system');
  apply() {
    const dark = this.mode === 'dark' || (this.mode === 'system' && matchMedia('(prefers-color-scheme: dark)').matches);
    document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  }
  cycle() {
    this.mode = this.mode === 'system' ? 'dark' : this.mode === 'dark' ? 'light' : 'system';
    localStorage.setItem('basalt_admin_theme', this.mode);
    this.apply();
  }
}
export const theme = new ThemeState();
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => theme.apply());

export interface Notice { id: number; text: string; kind: 'ok' | 'error' }
class Notices {
  items = $state<Notice[]>([]);
  #next = 1;
  push(text: string, kind: Notice['kind'] = 'ok') {
    const id = this.#next++;
    this.items.push({ id, text, kind });
    setTimeout(() => (this.items = this.items.filter((n) => n.id !== id)), kind === 'error' ? 6000 : 3000);
  }
}
export const notices = new Notices();
