// The dev frontend: a browser app at its own origin using the product as a real frontend would.
import { TokenSource } from "/vendor/livekit-client.mjs";

const $ = (selector) => document.querySelector(selector);
const config = await (await fetch("/config.json")).json();
const state = { user: null, token: null, tokenAt: 0, started: null, interviews: [] };
window.devFrontend = state; // for the browser tests: what the page knows

function show(element, value) {
  $(element).textContent = typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

function fail(error) {
  show("#log", `${error}`);
  $("#log").className = "error";
  throw error;
}

function tell(text) {
  show("#log", text);
  $("#log").className = "";
}

// A call the browser refused (CORS) or could not make rejects with "TypeError: Failed to fetch": say so.
window.addEventListener("unhandledrejection", (event) => {
  show("#log", `${event.reason}`);
  $("#log").className = "error";
});

async function dev(path, body) {
  const response = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) fail(new Error(`${path}: ${response.status} ${await response.text()}`));
  return response.json();
}

// Clerk's frontend keeps a session token fresh (they live 60 s); getToken() hands out the current one.
async function getToken() {
  if (!state.user) fail(new Error("sign in first"));
  if (!state.token || Date.now() - state.tokenAt > 50_000) {
    state.token = (await dev("/dev/session", { user_id: state.user.id })).token;
    state.tokenAt = Date.now();
  }
  return state.token;
}

// What each refusal means to the person in front of the page (the API's problem+json says why).
const MEANING = {
  401: "Your session expired: sign in again.",
  403: "This account may not start interviews.",
  404: "No such interview.",
  409: "That interview has ended: start a new one.",
  422: "The request was not accepted.",
  429: "You have too many open interviews.",
  503: "A moment of trouble on our side.",
};

async function api(path, init = {}) {
  const headers = { ...(init.headers || {}) };
  if (!init.credentials) headers.Authorization = `Bearer ${await getToken()}`;
  const response = await fetch(`${config.sessions_url}${path}`, { ...init, headers });
  const body = await response.json();
  if (!response.ok) {
    const retry = response.headers.get("Retry-After");
    const meaning = MEANING[response.status] || "Something went wrong.";
    const when = retry ? ` Try again in ${retry} s.` : "";
    fail(new Error(`${response.status}: ${meaning}${when} (${body.detail || body.title})`));
  }
  return body;
}

// The app's token source: the product's standardized token endpoint, asked with the current session token.
const tokenSource = TokenSource.custom(async (options) => {
  const request = { room_config: options.agentName ? { agents: [{ agent_name: options.agentName }] } : undefined };
  const answer = await api("/api/livekit/token", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(request),
  });
  return { serverUrl: answer.server_url, participantToken: answer.participant_token };
});

function describe(participantToken, serverUrl, how) {
  const claims = JSON.parse(atob(participantToken.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
  state.started = { room: claims.video.room, identity: claims.sub, name: claims.name, token: participantToken };
  show("#token", {
    how,
    serverUrl,
    room: claims.video.room,
    participant: { identity: claims.sub, name: claims.name },
    grants: claims.video,
    dispatch: (claims.roomConfig?.agents || []).map((agent) => ({
      agent: agent.agentName,
      metadata: agent.metadata ? JSON.parse(agent.metadata) : null,
    })),
    expires: new Date(claims.exp * 1000).toISOString(),
  });
  for (const id of ["#join", "#agent", "#leave"]) $(id).disabled = false;
}

async function refreshUsers() {
  const users = await dev("/dev/users");
  const rows = users.map(
    (user) => `<tr><td>${user.email ?? ""}</td><td><code>${user.id}</code></td>` +
      `<td><button data-user="${user.id}" data-email="${user.email ?? ""}">Sign in</button></td></tr>`,
  );
  $("#users").innerHTML = rows.join("");
}

async function listInterviews() {
  const status = $("#status-filter").value;
  const page = await api(`/api/interviews${status ? `?status=${status}` : ""}`);
  state.interviews = page.items;
  $("#interviews").innerHTML = page.items
    .map(
      (item) => `<tr><td>${item.room_name}</td><td>${item.status}</td><td>${item.has_report ? "report" : ""}</td>` +
        `<td><button data-interview="${item.id}">Read</button></td></tr>`,
    )
    .join("");
}

async function readInterview(id) {
  const detail = await api(`/api/interviews/${id}`);
  const transcript = await api(`/api/interviews/${id}/transcript`);
  show("#report", {
    status: detail.status,
    report: detail.report,
    transcript: transcript.items.map((segment) => `${segment.speaker}: ${segment.text}`),
  });
}

$("#signup").addEventListener("click", async (event) => {
  const webhook = event.target.dataset.webhook;
  if (!webhook) return;
  const email = $("#email").value || `candidate-${Math.random().toString(36).slice(2, 8)}@example.com`;
  const created = await dev("/dev/users", { email, first_name: email.split("@")[0], webhook });
  let text = `${created.user.id}: the webhook was ${webhook}`;
  if (webhook === "held") {
    text += ` <button id="deliver" data-svix="${created.svix_id}">Deliver it now</button>`;
  }
  $("#signup-result").innerHTML = text;
  await refreshUsers();
});

$("#signup-result").addEventListener("click", async (event) => {
  if (event.target.id !== "deliver") return;
  const delivered = await dev(`/dev/events/${event.target.dataset.svix}/deliver`, {});
  event.target.replaceWith(`delivered (${delivered.status})`);
});

$("#refresh-users").addEventListener("click", refreshUsers);

$("#users").addEventListener("click", (event) => {
  const id = event.target.dataset.user;
  if (!id) return;
  state.user = { id, email: event.target.dataset.email };
  state.token = null;
  show("#signed-in", `Signed in as ${state.user.email || id}`);
  for (const button of ["#start", "#start-endpoint", "#start-cookie", "#list"]) $(button).disabled = false;
});

$("#start").addEventListener("click", async () => {
  const { serverUrl, participantToken } = await tokenSource.fetch({}, true);
  describe(participantToken, serverUrl, "TokenSource.custom + Authorization: Bearer");
});

$("#start-endpoint").addEventListener("click", async () => {
  // TokenSource.endpoint fixes its headers when it is built: build it with a fresh token for each start.
  const endpoint = TokenSource.endpoint(`${config.sessions_url}/api/livekit/token`, {
    headers: { Authorization: `Bearer ${await getToken()}` },
  });
  const { serverUrl, participantToken } = await endpoint.fetch({});
  describe(participantToken, serverUrl, "TokenSource.endpoint (the standard token endpoint)");
});

$("#start-cookie").addEventListener("click", async () => {
  // A same-site deployment can rely on Clerk's __session cookie: it is sent to any port of this host.
  document.cookie = `__session=${await getToken()}; path=/; SameSite=Lax`;
  const answer = await api("/api/livekit/connection-details", {
    method: "POST",
    credentials: "include",
    headers: { "Content-Type": "application/json" },
    body: "{}",
  });
  document.cookie = "__session=; path=/; max-age=0";
  describe(answer.participantToken, answer.serverUrl, "the __session cookie, credentials: include");
});

$("#join").addEventListener("click", async () => {
  const joined = await dev("/dev/livekit/join", { body: { token: state.started.token } });
  tell(`joined ${joined.room} as ${joined.sid}`);
});

$("#agent").addEventListener("click", async () => {
  const played = await dev(`/dev/livekit/rooms/${state.started.room}/agent`, { body: {} });
  tell(`the agent reported interview ${played.interview_id}: report ${played.report.status}`);
});

$("#leave").addEventListener("click", async () => {
  await dev("/dev/livekit/leave", { body: { room: state.started.room, identity: state.started.identity } });
  tell("left the room");
});

$("#list").addEventListener("click", listInterviews);

$("#interviews").addEventListener("click", async (event) => {
  if (event.target.dataset.interview) await readInterview(event.target.dataset.interview);
});

await refreshUsers();
document.body.dataset.ready = "true";
