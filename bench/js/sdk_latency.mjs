// The official Directus JS SDK side of bench/latency.py.
//
// Usage: node sdk_latency.mjs URL EMAIL PASSWORD [COUNT]
//   (or SDK_BENCH_URL, SDK_BENCH_EMAIL, SDK_BENCH_PASSWORD, SDK_BENCH_COUNT,
//    SDK_BENCH_WARMUP in the environment; argv wins).
//
// Login is the SDK's recommended one: `client.login()` over REST, then
// `client.connect()`, which authenticates the socket with the access token
// (handshake mode) and resolves on `auth ok`. That is the same path as the
// kit's RealtimeSession.login; the seed tutorial instead sends email+password
// on the socket (a second password hash).
//
// Then one `subscribe('messages', {event: 'create'})`, consumed the SDK's way
// (`for await` over the subscription generator), and COUNT sequential creates
// over the socket with `sendMessage({type: 'items', action: 'create', ...})`
// (the SDK has no dedicated helper for items over the socket). Each latency is
// send -> own create event, matched on a unique content string; like
// bench/latency.py the next message goes only when both the event and the
// create reply are in. Prints one JSON line on stdout.

import { authentication, createDirectus, realtime } from '@directus/sdk';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';

const COLLECTION = 'messages';
const TIMEOUT_MS = 30_000;
// The server has stored the row (its reply is in) but the subscription did not
// deliver the event this long after: the SDK skipped it.
const LOST_AFTER_MS = Number.parseInt(process.env.SDK_BENCH_LOST_AFTER_MS ?? '2000', 10);

const [url, email, password, countArg] = [
	process.argv[2] ?? process.env.SDK_BENCH_URL,
	process.argv[3] ?? process.env.SDK_BENCH_EMAIL,
	process.argv[4] ?? process.env.SDK_BENCH_PASSWORD,
	process.argv[5] ?? process.env.SDK_BENCH_COUNT ?? '200',
];
const count = Number.parseInt(countArg, 10);
const warmup = Number.parseInt(process.env.SDK_BENCH_WARMUP ?? '5', 10);
if (!url || !email || !password || !(count > 0)) {
	console.error('usage: node sdk_latency.mjs URL EMAIL PASSWORD [COUNT]');
	process.exit(2);
}

/** A promise with its resolve/reject, rejected after `ms`. */
function deferred(what, ms = TIMEOUT_MS) {
	let resolve, reject;
	const promise = new Promise((res, rej) => {
		resolve = res;
		reject = rej;
	});
	const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
	promise.finally(() => clearTimeout(timer)).catch(() => {});
	return { promise, resolve, reject };
}

const client = createDirectus(url)
	.with(authentication('json'))
	.with(realtime({ authMode: 'handshake' }));

const loginStart = performance.now();
await client.login({ email, password });
// connect() sends {type:'auth', access_token} and resolves on auth ok.
const socket = await client.connect();
const loginToReady = performance.now() - loginStart;

const events = new Map(); // content -> deferred(time of the create event)
const replies = new Map(); // uid -> deferred(time of the items reply)

// Replies to our creates, read from the socket itself. Not through
// client.onWebSocket('message'): the SDK feeds those handlers from a loop that
// re-adds a one-shot listener per frame, and Node's WebSocket dispatches all
// frames of one TCP read synchronously, so a reply right behind a create event
// is skipped (measured: 16 of 40 replies never reached the handler).
socket.addEventListener('message', (message) => {
	const frame = JSON.parse(message.data);
	if (frame?.type !== 'items') return;
	const waiter = replies.get(frame.uid);
	if (waiter === undefined) return;
	replies.delete(frame.uid);
	if (frame.status === 'error') waiter.reject(new Error(`create failed: ${JSON.stringify(frame.error)}`));
	else waiter.resolve(performance.now());
});

// Events the SDK's way: `for await` over the subscription generator. It reads
// with the same one-shot listener, so it can in principle skip an event that
// arrives in the same read as a frame before it: such an event is counted in
// `lost_events` (after LOST_AFTER_MS) instead of timing out the whole run.
const { subscription, unsubscribe } = await client.subscribe(COLLECTION, {
	event: 'create',
	query: { fields: ['id', 'content'] },
});
const initSeen = deferred('subscription init');
const consumer = (async () => {
	for await (const message of subscription) {
		const now = performance.now();
		if (message.event === 'init') initSeen.resolve(now);
		if (message.event !== 'create') continue;
		for (const row of message.data ?? []) {
			const waiter = events.get(String(row.content));
			if (waiter !== undefined) {
				events.delete(String(row.content));
				waiter.resolve(now);
			}
		}
	}
})();
consumer.catch((error) => initSeen.reject(error));
await initSeen.promise;

/** Send one create; return [ms to own create event or null if lost, ms to reply]. */
async function sendAndWait(content) {
	const uid = randomUUID();
	const event = deferred(`create event of ${content}`);
	const reply = deferred(`reply to ${content}`);
	events.set(content, event);
	replies.set(uid, reply);
	const start = performance.now();
	client.sendMessage({ type: 'items', collection: COLLECTION, action: 'create', data: { content }, uid });
	const answered = await reply.promise;
	let timer;
	const lost = new Promise((resolve) => {
		timer = setTimeout(resolve, LOST_AFTER_MS, null);
	});
	const seen = await Promise.race([event.promise, lost]).finally(() => clearTimeout(timer));
	events.delete(content);
	return [seen === null ? null : seen - start, answered - start];
}

const tag = randomUUID().slice(0, 6);
for (let i = 0; i < warmup; i++) await sendAndWait(`warm-${tag}-sdk-${i}`);
const latencies = [];
const replyLatencies = [];
let lostEvents = 0;
for (let i = 0; i < count; i++) {
	const [seen, answered] = await sendAndWait(`bench-${tag}-sdk-${i}`);
	if (seen === null) lostEvents += 1;
	else latencies.push(seen);
	replyLatencies.push(answered);
}

unsubscribe();
client.disconnect();
const round = (ms) => Math.round(ms * 1000) / 1000;
console.log(
	JSON.stringify({
		sdk_version: (await import('@directus/sdk/package.json', { with: { type: 'json' } })).default.version,
		latencies_ms: latencies.map(round),
		reply_ms: replyLatencies.map(round),
		lost_events: lostEvents,
		login_to_ready_ms: round(loginToReady),
	}),
);
// The subscription generator polls with a 1 s timer; do not wait for it.
process.exit(0);
