import { mount } from 'svelte';
import App from './App.svelte';
import { theme } from './lib/state.svelte';
import './app.css';

theme.apply();
mount(App, { target: document.getElementById('app')! });
