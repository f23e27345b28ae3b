"use strict";

// Campaign Pulse status page: once signed in (/v1/session sets an HttpOnly session cookie),
// campaigns from /v1/campaigns every few seconds, alerts from /v1/alerts plus the
// /v1/alerts/stream Server-Sent Events. Everything is built with DOM calls (never innerHTML), so
// ids and summaries from the API are always shown as text.

const REFRESH_MS = 5000;
const RECONNECT_MIN_MS = 2000;
const RECONNECT_MAX_MS = 30000;
const PAGE_LIMIT = 500;
const TOP_CONTRIBUTORS = 3;

const STATUS_ORDER = ["decaying", "watch", "healthy", "insufficient_data"];
const STATUS_LABEL = {
  decaying: "Decaying",
  watch: "Watch",
  healthy: "Healthy",
  insufficient_data: "Insufficient data",
};
const METRIC_LABEL = {
  engagement_rate_by_views: "Engagement rate by views",
  conversions_per_view: "Conversions per view",
  clicks_per_view: "Clicks per view",
  cac: "CAC",
  roas: "ROAS",
};
const RATE_METRICS = new Set([
  "engagement_rate_by_views",
  "conversions_per_view",
  "clicks_per_view",
]);
const MONEY_METRICS = new Set(["cac", "spend", "revenue"]);
const SEVERITY_ORDER = ["critical", "warning"];

const SVG_NS = "http://www.w3.org/2000/svg";
const MINUS = "\u2212";

// ---- DOM helpers ----

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

function setAttributes(node, attrs) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined && value !== false) {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  setAttributes(node, attrs);
  return append(node, children);
}

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttributes(node, attrs);
  return append(node, children);
}

// ---- Formatting ----

function isNumber(value) {
  return typeof value === "number" && Number.isFinite(value);
}

function percent(value) {
  if (!isNumber(value)) return "—";
  const pct = value * 100;
  return `${pct.toFixed(Math.abs(pct) < 10 ? 2 : 1)}%`;
}

function money(value, currency) {
  if (!isNumber(value)) return "—";
  // Cents matter on a CAC of 12.40, not on a spend of 31,500.
  const digits = Math.abs(value) >= 1000 ? 0 : 2;
  const plain = { minimumFractionDigits: digits, maximumFractionDigits: digits };
  if (currency) {
    try {
      return new Intl.NumberFormat("en-US", { style: "currency", currency, ...plain }).format(value);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      return `${new Intl.NumberFormat("en-US", plain).format(value)} ${currency}`;
    }
  }
  return new Intl.NumberFormat("en-US", plain).format(value);
}

function ratio(value) {
  return isNumber(value) ? `${value.toFixed(2)}×` : "—";
}

function change(value) {
  if (!isNumber(value)) return "";
  const pct = Math.round(value * 100);
  return `${pct < 0 ? MINUS : "+"}${Math.abs(pct)}%`;
}

function count(value) {
  return new Intl.NumberFormat("en-US").format(value);
}

function plural(value, noun) {
  return value === 1 ? noun : `${noun}s`;
}

function metricValue(metric, value, currency) {
  if (RATE_METRICS.has(metric)) return percent(value);
  if (MONEY_METRICS.has(metric)) return money(value, currency);
  return isNumber(value) ? value.toFixed(2) : "—";
}

function metricLabel(metric) {
  if (METRIC_LABEL[metric]) return METRIC_LABEL[metric];
  const words = metric.replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function when(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString("en-US", {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}

function clock(date) {
  return date.toLocaleTimeString("en-US", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function statusRank(status) {
  const rank = STATUS_ORDER.indexOf(status);
  return rank === -1 ? STATUS_ORDER.length : rank;
}

function badge(status) {
  return el("span", { class: `badge status-${status}` }, STATUS_LABEL[status] || status);
}

// ---- Reasons and contributors in plain words ----

function reasonText(reason) {
  const label = metricLabel(reason.metric);
  const against = reason.kind.endsWith("above_target") ? "target" : "baseline";
  const moved = change(reason.relative_change);
  return `${label}${moved ? ` ${moved}` : ""} vs ${against} (${reason.window})`;
}

function reasonDetail(reason, currency) {
  const before = metricValue(reason.metric, reason.baseline, currency);
  const now = metricValue(reason.metric, reason.current, currency);
  return reason.kind.endsWith("above_target") ? `target ${before}, now ${now}` : `${before} → ${now}`;
}

function reasonsBlock(campaign) {
  let body;
  if (campaign.reasons.length) {
    body = el("ul", { class: "reasons" }, campaign.reasons.map((reason) =>
      el("li", { "data-kind": reason.kind },
        el("span", { class: "reason-text" }, reasonText(reason)),
        el("span", { class: "reason-detail" }, reasonDetail(reason, campaign.currency)))));
  } else if (campaign.status === "insufficient_data") {
    body = el("p", { class: "quiet" }, "Not enough recent data to compare with a baseline yet.");
  } else {
    body = el("p", { class: "quiet" }, "No metric has moved against its baseline.");
  }
  return el("section", { class: "why" }, el("h4", {}, "Why"), body);
}

function contributorsBlock(campaign) {
  const top = (campaign.contributors || []).slice(0, TOP_CONTRIBUTORS);
  const body = top.length
    ? el("ol", { class: "contributors" }, top.map((contributor) =>
      el("li", {},
        el("span", { class: "creator" }, contributor.creator_id),
        el("span", { class: "share-bar", "aria-hidden": "true" },
          el("span", { style: `width: ${Math.round(Math.min(1, Math.max(0, contributor.share)) * 100)}%` })),
        el("span", { class: "share" },
          `${Math.round(contributor.share * 100)}% of the change in ${metricLabel(contributor.metric).toLowerCase()}`))))
    : el("p", { class: "quiet" }, "No creator stands out.");
  return el("section", { class: "drivers" }, el("h4", {}, "Top contributing creators"), body);
}

// How long ago an instant was, in the largest unit that fits ("3 h", "2 d").
function age(iso) {
  const minutes = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 60000));
  if (minutes < 60) return `${minutes} min`;
  if (minutes < 48 * 60) return `${Math.round(minutes / 60)} h`;
  return `${Math.round(minutes / 1440)} d`;
}

const SOURCE_LABEL = { instagram: "Instagram", tiktok: "TikTok", youtube: "YouTube" };

// Per source: when its snapshots last arrived and how old the newest one is, measured now (the
// stored view was built when data last changed), with the platform's documented reporting delay.
function freshnessBlock(campaign) {
  const sources = campaign.freshness || [];
  if (!sources.length) return null;
  return el("section", { class: "freshness" }, el("h4", {}, "Data freshness"),
    el("ul", {}, sources.map((source) =>
      el("li", { "data-source": source.source },
        el("span", { class: "source" }, SOURCE_LABEL[source.source] || source.source),
        ` newest snapshot ${age(source.newest_snapshot_at)} old · `
        + (source.last_received_at ? `arrived ${when(source.last_received_at)}` : "arrival unknown"),
        source.note ? el("span", { class: "delay-note" }, ` · ${source.note}`) : null))));
}

// Suspicious engagement (docs/suspicious-engagement.md): the campaign's flagged creators and the
// kinds of flag each has; the evidence is on the creator's view in the API.
const FLAG_LABEL = {
  likes_exceed_views: "likes above views",
  follower_spike: "follower spike",
  engagement_out_of_band: "engagement out of band",
  engagement_burst: "engagement burst",
  purge: "likes purged",
};

function flagsBlock(campaign) {
  const flagged = campaign.flagged_creators || [];
  if (!flagged.length) return null;
  return el("section", { class: "flags" },
    el("h4", {}, "Suspicious engagement"),
    el("ul", { class: "flagged" }, flagged.map((creator) =>
      el("li", { "data-creator-id": creator.creator_id },
        el("span", { class: "creator" }, creator.creator_id),
        el("span", { class: "flag-kinds" },
          creator.kinds.map((kind) => FLAG_LABEL[kind] || kind).join(", "))))));
}

// ---- Charts: inline SVG lines over the seven-day trend ----

const CHART = { width: 400, height: 86, left: 4, right: 4, top: 10, bottom: 6 };

function segments(values) {
  const runs = [];
  let run = [];
  values.forEach((value, index) => {
    if (isNumber(value)) {
      run.push([index, value]);
    } else if (run.length) {
      runs.push(run);
      run = [];
    }
  });
  if (run.length) runs.push(run);
  return runs;
}

function chart(title, values, format, tone) {
  const known = values.filter(isNumber);
  const caption = el("figcaption", {}, el("span", { class: "chart-title" }, title));
  if (!known.length) {
    return el("figure", { class: `chart ${tone}` }, caption,
      el("p", { class: "chart-empty" }, "No data in the last 7 days"));
  }
  const last = known[known.length - 1];
  const peak = Math.max(...known);
  const high = peak > 0 ? peak * 1.1 : 1;
  const { width, height, left, right, top, bottom } = CHART;
  const x = (index) => left + (index * (width - left - right)) / Math.max(1, values.length - 1);
  const y = (value) => top + (1 - value / high) * (height - top - bottom);
  const floor = height - bottom;
  const drawn = svg("svg", {
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-label": `${title} over the last 7 days: peak ${format(peak)}, latest ${format(last)}`,
    focusable: "false",
  },
  svg("line", { class: "gridline", x1: left, x2: width - right, y1: y(peak), y2: y(peak) }),
  svg("line", { class: "axis", x1: left, x2: width - right, y1: floor, y2: floor }),
  // Steps without data (no views, or no new customers for CAC) leave gaps; a faint dashed line
  // bridges them so isolated points still read as one series.
  svg("path", {
    class: "bridge",
    d: values.map((value, index) => [index, value]).filter(([, value]) => isNumber(value))
      .map(([index, value], n) => `${n ? "L" : "M"}${x(index).toFixed(1)},${y(value).toFixed(1)}`)
      .join(" "),
  }),
  segments(values).map((run) => {
    const line = run.map(([index, value], n) =>
      `${n ? "L" : "M"}${x(index).toFixed(1)},${y(value).toFixed(1)}`).join(" ");
    if (run.length === 1) {
      const [[index, value]] = run;
      return svg("circle", { class: "dot", cx: x(index), cy: y(value), r: 2.5 });
    }
    const first = x(run[0][0]).toFixed(1);
    const end = x(run[run.length - 1][0]).toFixed(1);
    return [
      svg("path", { class: "area", d: `${line} L${end},${floor} L${first},${floor} Z` }),
      svg("path", { class: "line", d: line }),
    ];
  }),
  svg("circle", {
    class: "dot last",
    cx: x(values.lastIndexOf(last)),
    cy: y(last),
    r: 3.5,
  }));
  caption.append(el("span", { class: "chart-values" },
    el("span", {}, "peak ", el("strong", {}, format(peak))),
    el("span", {}, "latest ", el("strong", {}, format(last)))));
  return el("figure", { class: `chart ${tone}` }, caption, drawn,
    el("div", { class: "chart-axis", "aria-hidden": "true" },
      el("span", {}, "7 days ago"), el("span", {}, "now")));
}

function kpi(label, qualifier, value) {
  return el("div", { class: "kpi" },
    el("dt", {}, label, qualifier ? [" ", el("small", {}, qualifier)] : null),
    el("dd", {}, value));
}

function campaignCard(campaign) {
  const headingId = `campaign-${campaign.campaign_id}-name`;
  const totals = campaign.totals;
  const currency = campaign.currency;
  return el("article", {
    class: `campaign status-${campaign.status}`,
    id: `campaign-${campaign.campaign_id}`,
    "data-campaign-id": campaign.campaign_id,
    "data-status": campaign.status,
    "aria-labelledby": headingId,
  },
  el("div", { class: "campaign-main" },
    el("header", { class: "campaign-head" },
      el("h3", { id: headingId }, campaign.campaign_id),
      badge(campaign.status)),
    el("p", { class: "meta" },
      `${count(campaign.creators)} ${plural(campaign.creators, "creator")} · `
      + `${count(campaign.posts)} ${plural(campaign.posts, "post")} · `
      + `${count(totals.views)} ${plural(totals.views, "view")} · data as of ${when(campaign.as_of)}`),
    el("dl", { class: "kpis" },
      kpi("ER", "by views", percent(totals.engagement_rate_by_views)),
      kpi("CAC", currency || "", money(totals.cac, currency)),
      kpi("ROAS", "", ratio(totals.roas)),
      kpi("Spend", "lifetime", money(totals.spend, currency))),
    reviewLinks(campaign),
    el("div", { class: "explain" }, reasonsBlock(campaign), contributorsBlock(campaign)),
    el("section", { class: "moves", "data-moves-for": campaign.campaign_id },
      el("h4", {}, "Budget moves · next 7 days"), el("p", { class: "quiet" }, "Loading…")),
    flagsBlock(campaign),
    freshnessBlock(campaign)),
  el("div", { class: "charts" },
    chart("ER by views · per 6 h", campaign.trend.map((point) => point.engagement_rate_by_views),
      percent, "tone-er"),
    // Fees are paid at posting and customers come over the next days: CAC is spend over new
    // customers cumulated over the seven days, a gap (never 0) until both are non-zero.
    chart(`CAC${currency ? ` (${currency})` : ""} · 7 days to date`,
      campaign.trend.map((point) => point.cac_to_date), (value) => money(value, currency),
      "tone-cac")));
}

// ---- Budget moves beside each campaign ----

function movesBody(recommendation) {
  if (!recommendation.moves.length) return el("p", { class: "quiet" }, `No move: ${recommendation.reason}.`);
  return el("ol", { class: "move-list" }, recommendation.moves.map((move) =>
    el("li", {},
      el("strong", {}, money(move.amount, move.currency)), " ",
      move.from_creator_id ? `from ${move.from_creator_id} ` : "added ",
      move.to_creator_id ? `to ${move.to_creator_id}` : "released",
      el("span", { class: "quiet" },
        ` · +${move.expected_new_customers.mid.toFixed(1)} new customers `
        + `(${move.expected_new_customers.low.toFixed(1)} to ${move.expected_new_customers.high.toFixed(1)}), `
        + `P(gain) ${Math.round(move.probability * 100)}%`))));
}

// A recommendation fits every creator's curve, so each campaign's is fetched at most once a
// minute, one campaign at a time, and never holds up the campaigns' own refresh.
const MOVES_MAX_AGE_MS = 60_000;
const movesCache = new Map();
let movesLoading = false;
let movesAgain = false;

async function fillMoves(mine) {
  for (const section of campaignsNode.querySelectorAll("[data-moves-for]")) {
    const campaignId = section.dataset.movesFor;
    let cached = movesCache.get(campaignId);
    if (!cached || Date.now() - cached.at > MOVES_MAX_AGE_MS) {
      const response = await api(`/v1/campaigns/${encodeURIComponent(campaignId)}/recommendations`);
      if (mine !== session) return;
      cached = { at: Date.now(), body: response.ok ? await response.json() : null, status: response.status };
      movesCache.set(campaignId, cached);
    }
    const body = cached.body ? movesBody(cached.body)
      : el("p", { class: "quiet" }, `Moves unavailable (HTTP ${cached.status}).`);
    // The campaigns may have been rendered again meanwhile: fill the section now on the page.
    const current = campaignsNode.querySelector(`[data-moves-for="${CSS.escape(campaignId)}"]`);
    if (current) current.replaceChildren(current.firstChild, body);
  }
}

// Called after every render; a render during a pass asks for one more pass.
async function loadMoves(mine) {
  if (movesLoading) {
    movesAgain = true;
    return;
  }
  movesLoading = true;
  try {
    do {
      movesAgain = false;
      await fillMoves(mine);
    } while (movesAgain && mine === session);
  } catch (error) {
    // Signed out or unreachable: the campaigns' own refresh reports it; the next render retries.
  } finally {
    movesLoading = false;
  }
}

// ---- Talking to the API ----

// A 401 from any request: the session ended (expired, signed out elsewhere, key revoked).
class SignedOut extends Error {}

async function reasonOf(response) {
  try {
    const body = await response.json();
    if (typeof body.detail === "string") return body.detail;
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
  }
  return `HTTP ${response.status}`;
}

// Every data request goes through here. The session cookie (HttpOnly, SameSite=Strict) rides
// along by itself, as it does on the EventSource, so the page never holds a key.
async function api(path, options = {}) {
  const response = await fetch(path, { cache: "no-store", ...options });
  if (response.status === 401) throw new SignedOut(await reasonOf(response));
  return response;
}

// ---- Campaigns ----

// The ISO week ("2026-W48") of the UTC day of an event time, as the weekly review names weeks.
function isoWeek(iso) {
  const day = new Date(iso);
  // The week's Thursday names its year, and the week is that Thursday's rank in the year.
  const thursday = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate()));
  thursday.setUTCDate(thursday.getUTCDate() + 3 - ((thursday.getUTCDay() + 6) % 7));
  const january = Date.UTC(thursday.getUTCFullYear(), 0, 1);
  const week = Math.floor((thursday - january) / 86400000 / 7) + 1;
  return `${thursday.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}

function reviewLinks(campaign) {
  if (!campaign.as_of) return null;
  const week = isoWeek(campaign.as_of);
  const base = `/v1/campaigns/${encodeURIComponent(campaign.campaign_id)}/reports/weekly?week=${week}`;
  return el("p", { class: "meta review-links" }, `Weekly review ${week}: `,
    el("a", { href: `${base}&format=html`, target: "_blank", rel: "noopener" }, "open"), " · ",
    el("a", { href: `${base}&format=pdf`, target: "_blank", rel: "noopener" }, "PDF"));
}

const counts = document.getElementById("counts");
const campaignsNode = document.getElementById("campaigns");
const campaignsNotice = document.getElementById("campaigns-notice");
const updated = document.getElementById("updated");

// Bumped at every sign-in and sign-out: polls, reconnections and answers that belong to an
// earlier session see it changed and stop, so nothing renders after signing out.
let session = 0;
let refreshTimer = null;
let reconnectTimer = null;
let source = null;

function renderCounts(byStatus, total) {
  counts.replaceChildren(
    el("li", { class: "count total" }, el("strong", {}, count(total)), ` ${plural(total, "campaign")}`),
    ...STATUS_ORDER.map((status) =>
      el("li", { class: `count status-${status}`, "data-status": status },
        el("strong", {}, count(byStatus[status] || 0)), " ", STATUS_LABEL[status])));
}

async function statusTotals() {
  const totals = await Promise.all(STATUS_ORDER.map(async (status) => {
    const response = await api(`/v1/campaigns?status=${status}&limit=1`);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return [status, (await response.json()).total];
  }));
  return Object.fromEntries(totals);
}

function renderCampaigns(page, byStatus) {
  const items = [...page.items].sort((a, b) => statusRank(a.status) - statusRank(b.status));
  renderCounts(byStatus, page.total);
  if (!items.length) {
    campaignsNode.replaceChildren();
    campaignsNotice.textContent = "Waiting for data: no campaigns yet. A campaign appears here "
      + "a few seconds after its first events reach ingest.";
    return;
  }
  campaignsNotice.textContent = page.total > items.length
    ? `Showing the ${count(items.length)} worst of ${count(page.total)} campaigns.`
    : "";
  campaignsNode.replaceChildren(...items.map(campaignCard));
}

let lastCampaigns = null;

async function refreshCampaigns(mine) {
  try {
    const response = await api(`/v1/campaigns?limit=${PAGE_LIMIT}`);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const text = await response.text();
    if (mine !== session) return;
    if (text !== lastCampaigns) {
      const page = JSON.parse(text);
      let byStatus = {};
      if (page.total > page.items.length) {
        byStatus = await statusTotals();
      } else {
        for (const campaign of page.items) byStatus[campaign.status] = (byStatus[campaign.status] || 0) + 1;
      }
      if (mine !== session) return;
      renderCampaigns(page, byStatus);
      lastCampaigns = text;
      loadMoves(mine);
    }
    updated.textContent = `Updated ${clock(new Date())} · refreshes every ${REFRESH_MS / 1000} s`;
    updated.dataset.state = "ok";
  } catch (error) {
    if (mine !== session) return;
    if (error instanceof SignedOut) {
      showSignIn(`Signed out: ${error.message}`, "error");
      return;
    }
    updated.textContent = `Cannot reach the API (${error.message}); retrying every ${REFRESH_MS / 1000} s`;
    updated.dataset.state = "error";
  }
  if (mine === session) refreshTimer = setTimeout(() => refreshCampaigns(mine), REFRESH_MS);
}

// ---- Alerts ----

const alertsNode = document.getElementById("alerts");
const connection = document.getElementById("alerts-connection");
const alerts = new Map();
let reconnectAttempts = 0;
let alertsNote = null;

function setConnection(state, text) {
  connection.dataset.state = state;
  connection.textContent = text;
}

function alertItem(alert) {
  return el("li", {
    class: `alert severity-${alert.severity}`,
    "data-alert-id": alert.alert_id,
  },
  el("div", { class: "alert-head" },
    el("span", { class: "severity" }, alert.severity),
    el("a", { class: "alert-campaign", href: `#${encodeURIComponent(`campaign-${alert.campaign_id}`)}` },
      alert.campaign_id),
),
  el("p", { class: "alert-summary" }, alert.summary),
  el("p", { class: "alert-time" }, "since ", el("time", { datetime: alert.opened_at }, when(alert.opened_at))));
}

function renderAlerts() {
  const open = [...alerts.values()].sort((a, b) =>
    SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity)
    || b.updated_at.localeCompare(a.updated_at));
  if (!open.length) {
    alertsNode.replaceChildren(el("li", { class: "no-alerts" }, alertsNote || "No alerts firing."));
    return;
  }
  alertsNode.replaceChildren(...open.map(alertItem));
}

function upsertAlert(alert) {
  const held = alerts.get(alert.alert_id);
  if (held && held.revision > alert.revision) return;
  if (alert.state === "firing") {
    alerts.set(alert.alert_id, alert);
  } else {
    alerts.delete(alert.alert_id);
  }
  renderAlerts();
}

function withoutAlerts(state, connectionText, note) {
  alerts.clear();
  alertsNote = note;
  setConnection(state, connectionText);
  renderAlerts();
}

// Loads the firing alerts; answers whether the live stream is worth (re)opening.
async function loadAlerts(mine) {
  let response;
  try {
    response = await api(`/v1/alerts?state=firing&limit=${PAGE_LIMIT}`);
  } catch (error) {
    if (mine !== session) return false;
    if (error instanceof SignedOut) {
      showSignIn(`Signed out: ${error.message}`, "error");
      return false;
    }
    setConnection("reconnecting", `Alerts: cannot reach the API (${error.message}); retrying…`);
    return true;
  }
  if (mine !== session) return false;
  if (response.status === 403) {
    // A key may read campaigns without alerts:read; the stream would refuse it the same way.
    withoutAlerts("unavailable", "Alerts need a key with the alerts:read scope.",
      "This key cannot read alerts: sign in with a key that has alerts:read to see them.");
    return false;
  }
  if (response.status === 404) {
    withoutAlerts("unavailable", "Alerts unavailable on this server; checking again shortly.",
      "Alerts unavailable.");
    return true;
  }
  if (!response.ok) {
    setConnection("reconnecting", `Alerts: HTTP ${response.status}; retrying…`);
    return true;
  }
  alertsNote = null;
  const fetched = new Map((await response.json()).items.map((alert) => [alert.alert_id, alert]));
  if (mine !== session) return false;
  for (const [id, alert] of fetched) {
    const held = alerts.get(id);
    if (held && held.revision > alert.revision) fetched.set(id, held);
  }
  alerts.clear();
  for (const [id, alert] of fetched) alerts.set(id, alert);
  renderAlerts();
  return true;
}

function scheduleReconnect(mine) {
  const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** reconnectAttempts);
  reconnectAttempts += 1;
  if (alertsNote === null) {
    setConnection("reconnecting", `Live stream lost; reconnecting in ${Math.round(delay / 1000)} s…`);
  }
  reconnectTimer = setTimeout(async () => {
    if (await loadAlerts(mine)) connectAlerts(mine);
  }, delay);
}

function connectAlerts(mine) {
  if (mine !== session) return;
  const stream = new EventSource("/v1/alerts/stream");
  source = stream;
  stream.addEventListener("open", async () => {
    reconnectAttempts = 0;
    setConnection("live", "Live: alerts update as they happen.");
    // Whatever changed while disconnected arrives with the list, not the stream.
    if (!await loadAlerts(mine)) stream.close();
  });
  stream.addEventListener("alert", (event) => {
    if (mine === session) upsertAlert(JSON.parse(event.data));
  });
  stream.addEventListener("error", () => {
    if (mine !== session) return;
    if (stream.readyState === EventSource.CLOSED) {
      // EventSource hides the status of a refused connection; the list request in
      // scheduleReconnect shows whether the session ended or the scope is missing.
      stream.close();
      scheduleReconnect(mine);
    } else {
      setConnection("reconnecting", "Live stream interrupted; reconnecting…");
    }
  });
}

// ---- Session: sign in, sign out ----

const checking = document.getElementById("checking");
const signIn = document.getElementById("sign-in");
const signInForm = document.getElementById("sign-in-form");
const signInMessage = document.getElementById("sign-in-message");
const keyInput = document.getElementById("sign-in-key");
const signInButton = document.getElementById("sign-in-button");
const accountName = document.getElementById("account-name");
const signOutButton = document.getElementById("sign-out");

function showPart(state) {
  document.body.dataset.session = state;
  checking.hidden = state !== "checking";
  signIn.hidden = state !== "signed-out";
  for (const node of document.querySelectorAll("[data-signed-in]")) node.hidden = state !== "signed-in";
}

// Stops every poll and the stream of the current session and forgets what they showed.
function stopLive() {
  session += 1;
  clearTimeout(refreshTimer);
  clearTimeout(reconnectTimer);
  if (source) source.close();
  source = null;
  lastCampaigns = null;
  reconnectAttempts = 0;
  alerts.clear();
  alertsNote = null;
  counts.replaceChildren();
  campaignsNode.replaceChildren();
  campaignsNotice.textContent = "";
  alertsNode.replaceChildren();
  accountName.textContent = "";
}

function startLive(who) {
  stopLive();
  const mine = session;
  accountName.textContent = who.name;
  updated.textContent = "Connecting…";
  updated.dataset.state = "";
  setConnection("connecting", "Connecting…");
  renderCounts({}, 0);
  renderAlerts();
  showPart("signed-in");
  refreshCampaigns(mine);
  loadAlerts(mine).then((worth) => {
    if (worth) connectAlerts(mine);
  });
}

function say(message, tone = "info") {
  signInMessage.textContent = message;
  signInMessage.dataset.tone = tone;
}

function showSignIn(message, tone = "info") {
  stopLive();
  say(message, tone);
  showPart("signed-out");
  keyInput.focus();
}

signInForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  // The key leaves the field at once: it is sent once, in the body, and kept nowhere.
  const key = keyInput.value.trim();
  keyInput.value = "";
  if (!key) {
    say("Paste an API key first.", "error");
    keyInput.focus();
    return;
  }
  signInButton.disabled = true;
  say("Signing in…");
  try {
    const response = await fetch("/v1/session", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ key }),
      cache: "no-store",
    });
    if (response.ok) {
      say("");
      startLive(await response.json());
      return;
    }
    say(`Sign-in refused: ${await reasonOf(response)}`, "error");
  } catch (error) {
    say(`Cannot reach the API (${error.message}); try again.`, "error");
  } finally {
    signInButton.disabled = false;
  }
  keyInput.focus();
});

signOutButton.addEventListener("click", async () => {
  stopLive();
  try {
    const response = await fetch("/v1/session", { method: "DELETE", cache: "no-store" });
    if (response.ok || response.status === 401) {
      showSignIn("Signed out.");
    } else {
      showSignIn(`Sign-out failed (HTTP ${response.status}); the session ends when it expires.`, "error");
    }
  } catch (error) {
    showSignIn(`Cannot reach the API to end the session (${error.message}); it ends when it expires.`,
      "error");
  }
});

// Nobody is signed in until the API says so: no data request goes out before that.
async function checkSession() {
  try {
    const response = await fetch("/v1/session", { cache: "no-store" });
    if (response.ok) {
      startLive(await response.json());
      return;
    }
    if (response.status === 401) {
      showSignIn("");
      return;
    }
    checking.textContent = `Cannot check the session (HTTP ${response.status}); retrying…`;
  } catch (error) {
    checking.textContent = `Cannot reach the API (${error.message}); retrying…`;
  }
  setTimeout(checkSession, REFRESH_MS);
}

checkSession();
