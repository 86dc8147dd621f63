// The dev frontend: a browser app at its own origin using the product as a real frontend would. Everything a
// user or a recruiter typed (names, titles, summaries, transcript lines) is rendered as text, never as markup.
import { TokenSource } from "/vendor/livekit-client.esm.mjs";

const $ = (selector) => document.querySelector(selector);
const config = await (await fetch("/config.json")).json();
const state = { user: null, org: null, token: null, tokenAt: 0, started: null, interviews: [], invite: null };
window.devFrontend = state; // for the browser tests: what the page knows

// An element with text children (strings become text nodes) and attributes (data-* included).
function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children.map((child) => (child instanceof Node ? child : String(child ?? ""))));
  return element;
}

function rows(table, items) {
  $(table).replaceChildren(...items.map((cells) => el("tr", {}, ...cells.map((cell) => el("td", {}, cell)))));
}

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

// The body of an answer: its JSON when it says it is JSON, else its text (an HTML error page, say).
async function bodyOf(response) {
  const type = response.headers.get("Content-Type") || "";
  return type.includes("json") ? response.json() : { detail: await response.text() };
}

async function dev(path, body) {
  const response = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await bodyOf(response);
  if (!response.ok) fail(new Error(`${path}: ${response.status} ${answer.detail ?? JSON.stringify(answer)}`));
  return answer;
}

// Clerk's frontend keeps a session token fresh (they live 60 s); getToken() hands out the current one.
async function getToken() {
  if (!state.user) fail(new Error("sign in first"));
  if (!state.token || Date.now() - state.tokenAt > 50_000) {
    state.token = (await dev("/dev/session", { user_id: state.user.id, org_id: state.org?.id ?? null })).token;
    state.tokenAt = Date.now();
  }
  return state.token;
}

// What each refusal means to the person in front of the page (the API's problem+json says why).
const MEANING = {
  401: "Your session expired: sign in again.",
  403: "Not allowed for this account.",
  404: "Not found.",
  409: "That interview has ended: start a new one.",
  410: "This invite is no longer valid.",
  422: "The request was not accepted.",
  429: "You have too many open interviews.",
  503: "A moment of trouble on our side.",
};

async function api(path, init = {}) {
  const headers = { ...(init.headers || {}) };
  if (!init.credentials) headers.Authorization = `Bearer ${await getToken()}`;
  const response = await fetch(`${config.sessions_url}${path}`, { ...init, headers });
  if (response.status === 204) return null;
  const body = await bodyOf(response);
  if (!response.ok) {
    const retry = response.headers.get("Retry-After");
    const meaning = MEANING[response.status] || "Something went wrong.";
    const when = retry ? ` Try again in ${retry} s.` : "";
    fail(new Error(`${response.status}: ${meaning}${when} (${body.detail || body.title})`));
  }
  return body;
}

function post(path, body) {
  return api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}

// The app's token source: the product's standardized token endpoint, asked with the current session token.
const tokenSource = TokenSource.custom(async (options) => {
  const request = { room_config: options.agentName ? { agents: [{ agent_name: options.agentName }] } : undefined };
  const answer = await post("/api/livekit/token", request);
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
  const [users, organizations] = await Promise.all([dev("/dev/users"), dev("/dev/organizations")]);
  rows(
    "#users",
    users.map((user) => [
      user.email ?? "",
      user.first_name ?? "",
      el("code", {}, user.id),
      el("span", {}, el("button", { "data-user": user.id, "data-email": user.email ?? "" }, "Sign in"),
        ...organizations
          .filter((org) => org.roles[user.id])
          .map((org) => el("button", { "data-user": user.id, "data-org": org.id, "data-org-name": org.name },
            `Sign in as ${org.roles[user.id]} of ${org.name}`))),
    ]),
  );
}

function signIn(id, email, org) {
  state.user = { id, email };
  state.org = org;
  state.token = null;
  show("#signed-in", `Signed in as ${email || id}${org ? ` (recruiter of ${org.name})` : ""}`);
  for (const button of ["#start", "#start-endpoint", "#start-cookie", "#list", "#export", "#redeem", "#new-org"]) {
    $(button).disabled = false;
  }
  $("#recruiter").hidden = !org;
  if (org) show("#recruiter-org", org.name);
}

async function listInterviews() {
  const status = $("#status-filter").value;
  const page = await api(`/api/interviews${status ? `?status=${status}` : ""}`);
  state.interviews = page.items;
  rows("#interviews", page.items.map((item) => [
    item.room_name, item.status, item.has_report ? "report" : "",
    el("button", { "data-interview": item.id }, "Read"),
    el("button", { "data-delete-interview": item.id }, "Delete"),
  ]));
}

async function transcriptOf(path) {
  const transcript = await api(`${path}/transcript`);
  return transcript.items.map((segment) => `${segment.speaker}: ${segment.text}`);
}

async function readInterview(id) {
  const detail = await api(`/api/interviews/${id}`);
  show("#report", {
    status: detail.status,
    report: detail.report,
    consents: detail.consents,
    read_by: detail.read_by, // who at the organization read it, by role
    transcript: await transcriptOf(`/api/interviews/${id}`),
  });
}

// The candidate's rights: a copy of everything (a download), and deleting one interview.
async function exportMine() {
  const response = await fetch(`${config.sessions_url}/api/me/export`, {
    headers: { Authorization: `Bearer ${await getToken()}` },
  });
  if (!response.ok) fail(new Error(`${response.status}: the export failed`));
  const blob = await response.blob();
  const link = el("a", { href: URL.createObjectURL(blob), download: "my-interviews.json" }, "my-interviews.json");
  $("#export-link").replaceChildren(link);
  const document_ = JSON.parse(await blob.text());
  tell(`exported ${document_.interviews.length} interviews (${blob.size} bytes): download my-interviews.json`);
}

async function listTemplates() {
  const page = await api("/api/org/templates");
  rows("#templates", page.items.map((template) => [
    template.title, `version ${template.version}`,
    el("button", { "data-invite-template": template.id }, "Invite a candidate"),
  ]));
}

async function listOrgInterviews() {
  const page = await api("/api/org/interviews");
  rows("#org-interviews", page.items.map((item) => item.kind === "tombstone"
    ? ["", "", `deleted by ${item.deleted_by}`, "", ""]
    : [
      item.candidate.name ?? "", item.candidate.email ?? "", item.status, item.has_report ? "report" : "",
      el("button", { "data-org-interview": item.id }, "Review"),
    ]));
}

async function reviewInterview(id) {
  const detail = await api(`/api/org/interviews/${id}`);
  show("#org-report", {
    candidate: detail.candidate,
    status: detail.status,
    template: { id: detail.template_id, version: detail.template_version },
    consents: detail.consents,
    report: detail.report,
    decisions: detail.decisions,
    transcript: await transcriptOf(`/api/org/interviews/${id}`),
  });
  state.reviewing = id;
  $("#decide").disabled = false;
  // The recording, if the candidate consented to one: a short-lived presigned link, fetched each time it is played.
  const audio = $("#org-recording");
  const recorded = detail.consents.some((c) => c.scope === "recording" && c.given && !c.withdrawn_at);
  audio.hidden = true;
  if (!recorded) return;
  try {
    const recording = await api(`/api/org/interviews/${id}/recording`);
    audio.src = recording.url;
    audio.hidden = false;
    tell(`the recording plays until ${recording.expires_at} (${recording.duration_ms} ms)`);
  } catch (error) {
    audio.removeAttribute("src");
    audio.hidden = true;
    tell(`no recording: ${error.message}`);
  }
}

$("#signup").addEventListener("click", async (event) => {
  const webhook = event.target.dataset.webhook;
  if (!webhook) return;
  const email = $("#email").value || `candidate-${Math.random().toString(36).slice(2, 8)}@example.com`;
  const firstName = $("#first-name").value || email.split("@")[0];
  const created = await dev("/dev/users", { email, first_name: firstName, webhook });
  const result = [`${created.user.id}: the webhook was ${webhook} `];
  if (webhook === "held") result.push(el("button", { id: "deliver", "data-svix": created.svix_id }, "Deliver it now"));
  $("#signup-result").replaceChildren(...result);
  await refreshUsers();
});

$("#signup-result").addEventListener("click", async (event) => {
  if (event.target.id !== "deliver") return;
  const delivered = await dev(`/dev/events/${event.target.dataset.svix}/deliver`, {});
  event.target.replaceWith(`delivered (${delivered.status})`);
});

$("#refresh-users").addEventListener("click", refreshUsers);

$("#users").addEventListener("click", async (event) => {
  const { user, email, org, orgName } = event.target.dataset;
  if (!user) return;
  signIn(user, email, org ? { id: org, name: orgName } : null);
  if (org) await listTemplates();
});

$("#new-org").addEventListener("click", async () => {
  const name = $("#org-name").value || `Org ${Math.random().toString(36).slice(2, 6)}`;
  const created = await dev("/dev/organizations", { name, recruiter_id: state.user.id });
  tell(`organization ${created.organization.name} made; you are its recruiter`);
  await refreshUsers();
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
  try {
    const answer = await api("/api/livekit/connection-details", {
      method: "POST",
      credentials: "include",
      headers: { "Content-Type": "application/json" },
      body: "{}",
    });
    describe(answer.participantToken, answer.serverUrl, "the __session cookie, credentials: include");
  } finally {
    document.cookie = "__session=; path=/; max-age=0"; // signed out of the cookie whether or not it worked
  }
});

// An invite's link opens this page at /invite/{code}: the code goes in a request body, never in an API URL.
const invited = location.pathname.match(/^\/invite\/([A-Za-z0-9_-]+)$/);
if (invited) {
  $("#invite-code").value = invited[1];
  $("#invited").hidden = false;
}

// Before an organization's AI interviews anyone, the candidate reads what it does and consents (or declines).
$("#redeem").addEventListener("click", async () => {
  const shown = await post("/api/invites/preview", { code: $("#invite-code").value });
  state.notice = shown.template;
  $("#notice-title").textContent = `${shown.template.title} (version ${shown.template.version})`;
  $("#notice-text").textContent = shown.template.notice;
  $("#notice-length").textContent = shown.template.max_minutes ? `At most ${shown.template.max_minutes} minutes.` : "";
  $("#consent-recording-label").hidden = !shown.template.recording;
  $("#consent").hidden = false;
});

function consentGiven(aiEvaluation) {
  return {
    template_version: state.notice.version,
    ai_evaluation: aiEvaluation,
    recording: aiEvaluation && state.notice.recording && $("#consent-recording").checked,
  };
}

$("#consent-yes").addEventListener("click", async () => {
  if (!$("#consent-ai").checked) return tell("tick the box to agree, or decline");
  const consent = consentGiven(true);
  // As an app would hand it to livekit-client: TokenSource.custom, redeeming the invite each time it is asked
  // (the consent goes with the first redemption; coming back needs none).
  const source = TokenSource.custom(async () => {
    const answer = await post("/api/invites/connection-details", { code: $("#invite-code").value, consent });
    return { serverUrl: answer.serverUrl, participantToken: answer.participantToken };
  });
  const { serverUrl, participantToken } = await source.fetch({}, true);
  $("#consent").hidden = true;
  describe(participantToken, serverUrl, "an invite, redeemed with consent (TokenSource.custom)");
});

$("#consent-no").addEventListener("click", async () => {
  try {
    await post("/api/invites/connection-details", { code: $("#invite-code").value, consent: consentGiven(false) });
  } catch (error) {
    $("#consent").hidden = true;
    tell(`declined: ${error.message}`);
  }
});

$("#join").addEventListener("click", async () => {
  const joined = await dev("/dev/livekit/join", { body: { token: state.started.token } });
  tell(`joined ${joined.room} as ${joined.sid}`);
});

$("#agent").addEventListener("click", async () => {
  const played = await dev(`/dev/livekit/rooms/${state.started.room}/agent`, { body: {} });
  const brief = played.brief.body.template ? `the brief of "${played.brief.body.template.title}"` : "a brief";
  tell(`the agent read ${brief}, then reported interview ${played.interview_id}: report ${played.report.status}`);
});

$("#leave").addEventListener("click", async () => {
  await dev("/dev/livekit/leave", { body: { room: state.started.room, identity: state.started.identity } });
  tell("left the room");
});

$("#list").addEventListener("click", listInterviews);
$("#export").addEventListener("click", exportMine);

$("#interviews").addEventListener("click", async (event) => {
  const id = event.target.dataset.deleteInterview;
  if (!id) return;
  await api(`/api/interviews/${id}`, { method: "DELETE" });
  tell(`interview ${id} deleted, with its transcript, report and recording`);
  await listInterviews();
});

// A person decides, having read the transcript (the review above read it): never over the AI's report.
$("#decide").addEventListener("click", async () => {
  const decided = await post(`/api/org/interviews/${state.reviewing}/decisions`, {
    decision: $("#decision").value,
    reason: $("#decision-reason").value,
  });
  tell(`decision recorded: ${decided.decision} by ${decided.by}`);
  await reviewInterview(state.reviewing);
});

$("#save-retention").addEventListener("click", async () => {
  const days = $("#retention-days").value;
  const settings = await api("/api/org/settings", {
    method: "PUT",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ retention_days: days ? Number(days) : null }),
  });
  tell(`interviews are kept ${settings.retention_days ?? "until deleted"} days after they end`);
});

$("#access-log").addEventListener("click", async () => {
  const page = await api("/api/org/access-log");
  rows("#access-records", page.items.map((record) => [record.at, record.role, record.actor, record.what, record.interview_id]));
  tell(`${page.items.length} reads in the access log`);
});

$("#interviews").addEventListener("click", async (event) => {
  if (event.target.dataset.interview) await readInterview(event.target.dataset.interview);
});

$("#save-template").addEventListener("click", async () => {
  const questions = $("#template-questions").value.split("\n").map((line) => line.trim()).filter(Boolean);
  const template = await post("/api/org/templates", {
    title: $("#template-title").value,
    instructions: $("#template-instructions").value,
    questions,
    share_report_with_candidate: $("#template-share").checked,
    recording: $("#template-recording").checked,
  });
  tell(`template "${template.title}" written (version ${template.version})`);
  await listTemplates();
});

$("#templates").addEventListener("click", async (event) => {
  const templateId = event.target.dataset.inviteTemplate;
  if (!templateId) return;
  state.invite = await post(`/api/org/templates/${templateId}/invites`, {});
  // INVITE_URL_TEMPLATE with the code: this page, at /invite/{code}, in the candidate's browser.
  $("#invite-url").href = state.invite.url;
  $("#invite-url").textContent = state.invite.url;
  tell(`invite made; it expires ${state.invite.expires_at}`);
});

$("#org-list").addEventListener("click", listOrgInterviews);

$("#org-interviews").addEventListener("click", async (event) => {
  if (event.target.dataset.orgInterview) await reviewInterview(event.target.dataset.orgInterview);
});

await refreshUsers();
document.body.dataset.ready = "true";
