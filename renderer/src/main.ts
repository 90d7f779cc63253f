import { mount } from 'svelte';
import App from './app/App.svelte';
import RecoveryPrompt from './app/RecoveryPrompt.svelte';
import { connectEngine } from './engine-client/index.ts';
import { Studio } from './state/studio.svelte.ts';
import { Autosaver, autosaveIntervalFrom, studioSnapshots } from './state/autosave.ts';
import './app.css';

const conn = connectEngine();
const studio = new Studio(conn);
const appRoot = document.getElementById('app')!;
mount(App, { target: appRoot, props: { studio } });
// Session safety: autosave after edits and every 30 s; after a crash, offer the saved session in
// a bar above the app (in the page flow, so it never covers the toolbar).
const recoveryRoot = document.body.insertBefore(document.createElement('div'), appRoot);
recoveryRoot.id = 'recovery';
const autosaver = new Autosaver(studioSnapshots(studio), studio.api, { intervalMs: autosaveIntervalFrom(location.search) });
mount(RecoveryPrompt, { target: recoveryRoot, props: { studio, autosaver } });
// Over the WebSocket the first 'open' link event triggers the listing; IPC is up at once.
if (conn.transport === 'ipc') void studio.session.refresh();
