import { mount } from 'svelte';
import App from './app/App.svelte';
import RecoveryPrompt from './app/RecoveryPrompt.svelte';
import { connectEngine } from './engine-client/index.ts';
import { Studio } from './state/studio.svelte.ts';
import { Autosaver, autosaveIntervalFrom } from './state/autosave.ts';
import './app.css';

const conn = connectEngine();
const studio = new Studio(conn);
mount(App, { target: document.getElementById('app')!, props: { studio } });
// Session safety: autosave every 30 s and on quit; after a crash, offer the saved session.
const recoveryRoot = document.body.appendChild(document.createElement('div'));
mount(RecoveryPrompt, { target: recoveryRoot, props: { studio, autosaver: new Autosaver(studio, studio.api, autosaveIntervalFrom(location.search)) } });
// Over the WebSocket the first 'open' link event triggers the listing; IPC is up at once.
if (conn.transport === 'ipc') void studio.refresh();
