import { mount } from 'svelte';
import App from './app/App.svelte';
import { connectEngine } from './engine-client/index.ts';
import { Studio } from './state/studio.svelte.ts';
import './app.css';

const conn = connectEngine();
const studio = new Studio(conn);
mount(App, { target: document.getElementById('app')!, props: { studio } });
// Over the WebSocket the first 'open' link event triggers the listing; IPC is up at once.
if (conn.transport === 'ipc') void studio.refresh();
