// Foundation dashboard: renders the status snapshots streamed by /api/status/stream, and a live tail of the
// event log from /api/events/stream, and the projections and subscriptions polled from /api/projections and
// /api/subscriptions, and the configuration's latest versions polled from /api/config/history, and the
// protection policies with their layers' live state, the rate limiters with their most constrained keys
// and the pools, all from one poll of /api/protection, and small
// live charts (hand-written inline SVG) of the in-memory metric series polled from /api/metrics/series.
// Plain browser JavaScript, no build step. Every value is written with textContent (never innerHTML).
'use strict';

(() => {
  const STREAM_URL = '/api/status/stream';
  const EVENTS_URL = '/api/events';
  const EVENT_STREAM_URL = '/api/events/stream';
  /** Most rows of the live tail (the latest events). */
  const TAIL_ROWS = 50;
  const RECONNECT_MIN_MS = 1000;
  const RECONNECT_MAX_MS = 10000;

  const $ = (testId) => document.querySelector(`[data-testid="${testId}"]`);

  /** Latest snapshot and when it arrived (for uptimes that keep ticking between updates). */
  let latest = null;
  let receivedAt = 0;
  let source = null;
  let reconnectDelay = RECONNECT_MIN_MS;
  let reconnectTimer = null;
  /** The live tail: rows shown (latest first), its stream, and its controls' state. */
  const tail = {
    events: [],
    source: null,
    /** Checkpoint (`id`) of the last event received: where a reopened stream resumes. */
    checkpoint: null,
    paused: false,
    types: '',
    /** Bumped whenever the tail restarts, so answers of an older start are ignored. */
    generation: 0,
    retryDelay: RECONNECT_MIN_MS,
    retryTimer: null,
    renderPending: false,
    storeRunning: true,
  };

  function formatDuration(ms) {
    if (!Number.isFinite(ms) || ms <= 0) return '—';
    const s = Math.floor(ms / 1000);
    const d = Math.floor(s / 86400);
    const h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60);
    const sec = s % 60;
    const pad = (n) => String(n).padStart(2, '0');
    if (d > 0) return `${d}d ${pad(h)}h`;
    if (h > 0) return `${h}h ${pad(m)}m`;
    if (m > 0) return `${m}m ${pad(sec)}s`;
    return `${sec}s`;
  }

  function formatBytes(bytes) {
    if (!Number.isFinite(bytes)) return '—';
    const units = ['B', 'KiB', 'MiB', 'GiB'];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
  }

  function formatTime(ms) {
    return Number.isFinite(ms) ? new Date(ms).toLocaleTimeString() : '';
  }

  function el(tag, attributes, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function badge(kind, value, testId) {
    const attributes = { class: 'badge', [`data-${kind}`]: value };
    if (testId) attributes['data-testid'] = testId;
    return el('span', attributes, value);
  }

  function setConnection(state, label) {
    const node = $('connection');
    node.dataset.state = state;
    $('connection-label').textContent = label;
  }

  function elapsed() {
    return latest ? performance.now() - receivedAt : 0;
  }

  function renderSummary() {
    const { status, health } = latest;
    document.title = `${status.name} · Foundation`;
    $('node-name').textContent = status.name;
    const state = $('node-state');
    state.textContent = status.state;
    state.dataset.state = status.state;
    const overall = $('node-health');
    const healthLabel = health.ready ? health.status : `${health.status} (not ready)`;
    overall.textContent = healthLabel;
    overall.dataset.health = health.ready ? health.status : 'unhealthy';
    $('node-uptime').textContent =
      status.state === 'running' ? formatDuration(status.uptimeMs + elapsed()) : '—';
    $('node-rss').textContent = formatBytes(status.process.rssBytes);
    $('node-heap').textContent = `heap ${formatBytes(status.process.heapUsedBytes)}`;
    const running = status.services.filter((s) => s.state === 'running').length;
    $('service-count').textContent = `${running} / ${status.services.length} running`;
    $('restart-count').textContent = `${status.restarts} restart${status.restarts === 1 ? '' : 's'}`;
    $('node-process').textContent = `pid ${status.process.pid} · node ${status.process.node}`;
    $('updated-at').textContent = `updated ${formatTime(health.checkedAt)}`;
  }

  function dependencyCell(service) {
    const cell = el('td', { 'data-testid': 'service-deps' });
    const required = service.dependencies || [];
    const optional = service.optionalDependencies || [];
    if (required.length === 0 && optional.length === 0) {
      cell.append(el('span', { class: 'muted' }, '—'));
      return cell;
    }
    for (const name of required) cell.append(el('span', { class: 'chip' }, name));
    for (const name of optional)
      cell.append(el('span', { class: 'chip optional', title: 'optional' }, `${name}?`));
    return cell;
  }

  function errorCell(service) {
    const cell = el('td', { 'data-testid': 'service-error', class: 'error-cell' });
    const error = service.lastError;
    if (!error) {
      cell.append(el('span', { class: 'muted' }, '—'));
      return cell;
    }
    cell.title = `${error.code} at ${new Date(error.at).toLocaleString()}`;
    cell.append(el('code', {}, error.code), el('span', { class: 'error-message' }, error.message));
    return cell;
  }

  function renderServices() {
    const { status, health } = latest;
    const healthByName = new Map(health.services.map((h) => [h.name, h]));
    const body = $('services-body');
    if (status.services.length === 0) {
      const row = el('tr', { class: 'empty' });
      row.append(el('td', { colspan: '7' }, 'No services are supervised.'));
      body.replaceChildren(row);
      return;
    }
    const rows = status.services.map((service) => {
      const row = el('tr', {
        'data-testid': 'service-row',
        'data-service': service.name,
        'data-state': service.state,
      });
      const h = healthByName.get(service.name);
      const healthCell = el('td', { 'data-testid': 'service-health' });
      healthCell.append(badge('health', h ? h.status : 'unknown'));
      if (h && h.message) {
        healthCell.title = h.message;
        healthCell.append(el('span', { class: 'health-message' }, h.message));
      }
      const stateCell = el('td');
      stateCell.append(badge('state', service.state, 'service-state'));
      const uptime = service.state === 'running' ? formatDuration(service.uptimeMs + elapsed()) : '—';
      row.append(
        el('td', { 'data-testid': 'service-name', class: 'name' }, service.name),
        stateCell,
        healthCell,
        el('td', { 'data-testid': 'service-restarts', class: 'num' }, String(service.restarts)),
        el('td', { 'data-testid': 'service-uptime', class: 'num' }, uptime),
        dependencyCell(service),
        errorCell(service),
      );
      return row;
    });
    body.replaceChildren(...rows);
  }

  function eventsMessage(text) {
    const row = el('tr', { class: 'empty' });
    row.append(el('td', { colspan: '5' }, text));
    $('events-body').replaceChildren(row);
  }

  function eventRow(event) {
    const row = el('tr', { 'data-testid': 'event-row', 'data-event-id': event.id });
    const stream =
      event.stream === null
        ? el('span', { class: 'muted' }, '—')
        : el('span', {}, `${event.stream}@${event.streamVersion}`);
    const streamCell = el('td', { 'data-testid': 'event-stream' });
    streamCell.append(stream);
    const time = el('td', { 'data-testid': 'event-time', class: 'num' }, formatTime(event.time));
    time.title = new Date(event.time).toISOString();
    row.append(
      el('td', { 'data-testid': 'event-position', class: 'num' }, String(event.position)),
      time,
      el('td', { 'data-testid': 'event-type', class: 'name' }, event.type),
      streamCell,
      el('td', { 'data-testid': 'event-correlation' }, event.correlationId || '—'),
    );
    return row;
  }

  function renderEvents() {
    tail.renderPending = false;
    if (!tail.storeRunning && tail.events.length === 0) {
      eventsMessage('The event store is not running.');
      return;
    }
    if (tail.events.length === 0) {
      eventsMessage(tail.types ? 'No events of these types yet.' : 'No events yet.');
      return;
    }
    $('events-body').replaceChildren(...tail.events.map(eventRow));
  }

  /** Renders at most once per frame, however many events a burst brings. */
  function scheduleEventsRender() {
    if (tail.renderPending) return;
    tail.renderPending = true;
    setTimeout(renderEvents, 16);
  }

  function setTailState(state, summary) {
    $('events-tail').dataset.state = state;
    $('events-summary').textContent = summary;
  }

  function tailSummary() {
    const latest = tail.events[0];
    const filter = tail.types ? ` · types ${tail.types}` : '';
    return `live${filter} · latest position ${latest ? latest.position : 0}`;
  }

  function stopTailStream() {
    if (tail.source) tail.source.close();
    tail.source = null;
    if (tail.retryTimer !== null) clearTimeout(tail.retryTimer);
    tail.retryTimer = null;
  }

  function scheduleTailRestart() {
    if (tail.retryTimer !== null || tail.paused) return;
    tail.retryTimer = setTimeout(() => {
      tail.retryTimer = null;
      startTail();
    }, tail.retryDelay);
    tail.retryDelay = Math.min(tail.retryDelay * 2, RECONNECT_MAX_MS);
  }

  function tailQuery(extra) {
    const params = new URLSearchParams(extra);
    if (tail.types) params.set('types', tail.types);
    return params.toString();
  }

  /** Opens the live stream right after `from` (a position or checkpoint). */
  function openTailStream(from, generation) {
    const source = new EventSource(`${EVENT_STREAM_URL}?${tailQuery({ from: String(from) })}`);
    tail.source = source;
    source.addEventListener('open', () => {
      if (generation !== tail.generation) return;
      tail.retryDelay = RECONNECT_MIN_MS;
      setTailState('live', tailSummary());
    });
    source.addEventListener('event', (message) => {
      if (generation !== tail.generation) return;
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      if (message.lastEventId) tail.checkpoint = message.lastEventId;
      tail.events.unshift(event);
      if (tail.events.length > TAIL_ROWS) tail.events.length = TAIL_ROWS;
      setTailState('live', tailSummary());
      scheduleEventsRender();
    });
    source.addEventListener('problem', (message) => {
      if (generation !== tail.generation) return;
      let detail = 'stream ended';
      try {
        detail = JSON.parse(message.data).detail || detail;
      } catch {
        // keep the generic text
      }
      setTailState('connecting', `reconnecting… (${detail})`);
    });
    source.addEventListener('error', () => {
      if (generation !== tail.generation) return;
      if (source.readyState === EventSource.CLOSED) {
        // Refused (503 while the bus stops, or a full bus): reopen after the last event received.
        setTailState('connecting', 'reconnecting…');
        tail.source = null;
        if (tail.retryTimer !== null || tail.paused) return;
        tail.retryTimer = setTimeout(() => {
          tail.retryTimer = null;
          if (generation !== tail.generation || tail.paused) return;
          openTailStream(tail.checkpoint !== null ? tail.checkpoint : from, generation);
        }, tail.retryDelay);
        tail.retryDelay = Math.min(tail.retryDelay * 2, RECONNECT_MAX_MS);
      } else {
        // The browser reconnects by itself, sending Last-Event-ID: nothing is missed or repeated.
        setTailState('connecting', 'reconnecting…');
      }
    });
  }

  /**
   * (Re)starts the tail: loads the latest events matching the filter, then streams from the newest of them,
   * so nothing appended in between is missed.
   */
  function startTail() {
    stopTailStream();
    tail.generation += 1;
    const generation = tail.generation;
    tail.checkpoint = null;
    setTailState('connecting', 'loading…');
    fetch(`${EVENTS_URL}?${tailQuery({ order: 'desc', limit: String(TAIL_ROWS) })}`, {
      headers: { accept: 'application/json' },
    })
      .then((response) =>
        response.json().then((body) => {
          if (response.ok) return body;
          const error = new Error(body && body.detail ? body.detail : `HTTP ${response.status}`);
          error.status = response.status;
          return Promise.reject(error);
        }),
      )
      .then((page) => {
        if (generation !== tail.generation) return;
        $('events-filter').removeAttribute('aria-invalid');
        tail.events = page.events.slice(0, TAIL_ROWS);
        renderEvents();
        if (tail.paused) {
          setTailState('paused', 'paused');
          return;
        }
        openTailStream(tail.events[0] ? tail.events[0].position : 'start', generation);
        setTailState('connecting', 'connecting…');
      })
      .catch((error) => {
        if (generation !== tail.generation) return;
        if (error.status === 400) {
          // A bad filter: say so and wait for a new one.
          $('events-filter').setAttribute('aria-invalid', 'true');
          setTailState('error', `invalid filter: ${error.message}`);
          return;
        }
        setTailState('connecting', 'could not load events; retrying…');
        scheduleTailRestart();
      });
  }

  function setPaused(paused) {
    tail.paused = paused;
    const button = $('events-pause');
    button.textContent = paused ? 'Resume' : 'Pause';
    button.setAttribute('aria-pressed', String(paused));
    if (paused) {
      tail.generation += 1;
      stopTailStream();
      setTailState('paused', `paused · ${tail.events.length} events shown`);
    } else {
      startTail();
    }
  }

  function applyFilter() {
    const types = $('events-filter')
      .value.split(',')
      .map((t) => t.trim())
      .filter((t) => t !== '')
      .join(',');
    if (types === tail.types) return;
    tail.types = types;
    tail.events = [];
    if (tail.paused) setPaused(false);
    else startTail();
  }

  /** Status snapshots tell whether the store runs, and whether its log went backwards (a new store). */
  function refreshEvents(position) {
    if (position === null || position === undefined) {
      tail.storeRunning = false;
      setTailState('connecting', 'event store not running');
      if (tail.events.length === 0) eventsMessage('The event store is not running.');
      return;
    }
    const wasRunning = tail.storeRunning;
    tail.storeRunning = true;
    const newest = tail.events[0];
    if (!tail.paused && (!wasRunning || (newest && position < newest.position))) startTail();
  }

  function render() {
    if (!latest) return;
    renderSummary();
    renderServices();
    refreshEvents(latest.events ? latest.events.lastPosition : null);
  }

  function tickUptimes() {
    if (!latest) return;
    const { status } = latest;
    $('node-uptime').textContent =
      status.state === 'running' ? formatDuration(status.uptimeMs + elapsed()) : '—';
    for (const service of status.services) {
      const row = document.querySelector(`tr[data-service="${CSS.escape(service.name)}"]`);
      const cell = row && row.querySelector('[data-testid="service-uptime"]');
      if (cell)
        cell.textContent = service.state === 'running' ? formatDuration(service.uptimeMs + elapsed()) : '—';
    }
  }

  function scheduleReconnect() {
    if (reconnectTimer !== null) return;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      connect();
    }, reconnectDelay);
    reconnectDelay = Math.min(reconnectDelay * 2, RECONNECT_MAX_MS);
  }

  function connect() {
    if (source) source.close();
    source = new EventSource(STREAM_URL);
    source.addEventListener('open', () => {
      reconnectDelay = RECONNECT_MIN_MS;
      setConnection('connected', 'live');
    });
    source.addEventListener('status', (event) => {
      try {
        latest = JSON.parse(event.data);
        receivedAt = performance.now();
        setConnection('connected', 'live');
        render();
      } catch {
        // A malformed event is ignored; the next one replaces it.
      }
    });
    source.addEventListener('error', () => {
      setConnection('disconnected', 'disconnected — reconnecting…');
      // The browser retries by itself unless the stream failed for good (e.g. a 503 while stopping).
      if (source.readyState === EventSource.CLOSED) scheduleReconnect();
    });
  }

  // ── Projections and subscriptions: polled from /api/projections and /api/subscriptions ──────────────
  const OPS_POLL_MS = 2000;
  /** Faster while a projection rebuilds, so its progress bar moves. */
  const OPS_REBUILD_POLL_MS = 500;
  /** A live subscription more than this many events behind is highlighted. */
  const LAG_WARNING = 1000;

  function opsMessage(bodyId, columns, text) {
    const row = el('tr', { class: 'empty' });
    row.append(el('td', { colspan: String(columns) }, text));
    $(bodyId).replaceChildren(row);
  }

  function muted(text) {
    return el('span', { class: 'muted' }, text);
  }

  function rebuildCell(projection) {
    const cell = el('td', { 'data-testid': 'projection-rebuild' });
    const progress = projection.rebuild;
    if (!progress) {
      cell.append(muted('—'));
      return cell;
    }
    const percent = Math.floor(Math.max(0, Math.min(1, progress.ratio)) * 100);
    const wrap = el('span', { class: 'rebuild' });
    const bar = el('progress', {
      'data-testid': 'projection-progress',
      max: String(Math.max(progress.target, 1)),
      value: String(Math.min(progress.position, Math.max(progress.target, 1))),
      'aria-label': `Rebuild of ${projection.name}`,
    });
    wrap.append(
      bar,
      el(
        'span',
        { 'data-testid': 'projection-progress-label', class: 'num' },
        `${progress.position} / ${progress.target} (${percent}%)`,
      ),
    );
    cell.append(wrap);
    return cell;
  }

  function projectionRow(projection) {
    const row = el('tr', {
      'data-testid': 'projection-row',
      'data-projection': projection.name,
      'data-state': projection.state,
    });
    const stateCell = el('td');
    stateCell.append(badge('state', projection.state, 'projection-state'));
    const errorCell = el('td', { 'data-testid': 'projection-error', class: 'error-cell' });
    if (projection.error) {
      errorCell.append(
        el('code', {}, projection.error.code),
        el('span', { class: 'error-message' }, projection.error.message),
      );
    } else {
      errorCell.append(muted('—'));
    }
    row.append(
      el('td', { 'data-testid': 'projection-name', class: 'name' }, projection.name),
      el('td', { 'data-testid': 'projection-mode' }, projection.mode),
      stateCell,
      el('td', { 'data-testid': 'projection-position', class: 'num' }, String(projection.position)),
      rebuildCell(projection),
      errorCell,
    );
    return row;
  }

  function subscriptionRow(kind, name, state, position, lag, buffered, delivered, title) {
    const row = el('tr', {
      'data-testid': 'subscription-row',
      'data-subscription': name,
      'data-kind': kind,
    });
    if (title) row.title = title;
    const stateCell = el('td');
    stateCell.append(badge('state', state, 'subscription-state'));
    const lagCell = el('td', { 'data-testid': 'subscription-lag', class: 'num' }, String(lag));
    if (lag > LAG_WARNING) lagCell.classList.add('lagging');
    row.append(
      el('td', { 'data-testid': 'subscription-name', class: 'name' }, name),
      el('td', { 'data-testid': 'subscription-kind' }, kind),
      stateCell,
      el('td', { 'data-testid': 'subscription-position', class: 'num' }, String(position)),
      lagCell,
      el('td', { class: 'num' }, buffered),
      el('td', { 'data-testid': 'subscription-delivered', class: 'num' }, String(delivered)),
    );
    return row;
  }

  function renderOps(projections, subscriptions) {
    if (projections.length === 0) opsMessage('projections-body', 6, 'No projections.');
    else $('projections-body').replaceChildren(...projections.map(projectionRow));
    const rows = [
      ...subscriptions.live.map((s) =>
        subscriptionRow('live', s.name, s.state, s.position, s.lag, String(s.buffered), s.delivered),
      ),
      ...subscriptions.durable.map((d) =>
        subscriptionRow(
          'durable',
          d.name,
          d.state,
          d.held.reduce((max, p) => Math.max(max, p.position), 0),
          d.lag,
          `${d.held.length} / ${d.partitions} partitions`,
          d.handled,
          `member ${d.member}${d.error ? ` · ${d.error.code}` : ''}`,
        ),
      ),
    ];
    if (rows.length === 0) opsMessage('subscriptions-body', 7, 'No subscriptions.');
    else $('subscriptions-body').replaceChildren(...rows);
    const rebuilding = projections.filter((p) => p.state === 'rebuilding').length;
    const lagging = subscriptions.live.filter((s) => s.lag > LAG_WARNING).length;
    $('ops-summary').textContent =
      `${projections.length} projection${projections.length === 1 ? '' : 's'}` +
      (rebuilding > 0 ? ` (${rebuilding} rebuilding)` : '') +
      ` · ${rows.length} subscription${rows.length === 1 ? '' : 's'}` +
      (lagging > 0 ? ` (${lagging} lagging)` : '') +
      ` · updated ${new Date().toLocaleTimeString()}`;
    return rebuilding > 0;
  }

  async function fetchJson(url) {
    const response = await fetch(url, { headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    return response.json();
  }

  async function pollOps() {
    if (document.hidden) {
      // A background tab asks nothing; it refreshes as soon as it is shown again.
      setTimeout(pollOps, OPS_POLL_MS);
      return;
    }
    let rebuilding = false;
    try {
      const [projections, subscriptions] = await Promise.all([
        fetchJson('/api/projections'),
        fetchJson('/api/subscriptions'),
      ]);
      rebuilding = renderOps(projections.projections, subscriptions);
      $('ops-panel').dataset.state = 'loaded';
    } catch {
      $('ops-panel').dataset.state = 'error';
      $('ops-summary').textContent = 'Cannot load projections and subscriptions; retrying…';
    }
    setTimeout(pollOps, rebuilding ? OPS_REBUILD_POLL_MS : OPS_POLL_MS);
  }

  // ── Configuration: the version and the latest changes, polled from /api/config/history ─────────────
  const CONFIG_POLL_MS = 5000;
  /** Rows of the configuration panel: the latest versions. */
  const CONFIG_ROWS = 10;
  /** Changed paths listed in a row before "+N more". */
  const CONFIG_PATHS_SHOWN = 3;

  function configValue(value) {
    if (value === undefined) return '(unset)';
    const json = JSON.stringify(value);
    return json.length > 80 ? `${json.slice(0, 79)}…` : json;
  }

  function configChangesCell(version) {
    const cell = el('td', { 'data-testid': 'config-changes' });
    const changes = version.changes || [];
    if (changes.length === 0) {
      cell.append(muted('—'));
      return cell;
    }
    // Values (already redacted by the server) go to the tooltip; the cell lists the paths.
    cell.title = changes.map((c) => `${c.path}: ${configValue(c.old)} → ${configValue(c.new)}`).join('\n');
    for (const change of changes.slice(0, CONFIG_PATHS_SHOWN))
      cell.append(el('code', { class: 'chip' }, change.path));
    if (changes.length > CONFIG_PATHS_SHOWN)
      cell.append(muted(` +${changes.length - CONFIG_PATHS_SHOWN} more`));
    return cell;
  }

  function configRow(version) {
    const row = el('tr', {
      'data-testid': 'config-row',
      'data-version': String(version.version),
      'data-kind': version.kind,
    });
    const time = el('td', { class: 'num' }, formatTime(version.at));
    time.title = new Date(version.at).toISOString();
    const kind =
      version.kind === 'rollback' && version.rolledBackTo
        ? `rollback to ${version.rolledBackTo}`
        : version.kind;
    row.append(
      el('td', { 'data-testid': 'config-row-version', class: 'num' }, String(version.version)),
      time,
      el('td', { 'data-testid': 'config-kind' }, kind),
      el('td', { 'data-testid': 'config-actor' }, version.actor || '—'),
      configChangesCell(version),
      el('td', { 'data-testid': 'config-reason' }, version.reason || '—'),
    );
    return row;
  }

  function renderConfig(history) {
    $('config-version').textContent = `v${history.version}`;
    if (history.versions.length === 0) opsMessage('config-history-body', 6, 'No versions yet.');
    else $('config-history-body').replaceChildren(...history.versions.map(configRow));
    $('config-summary').textContent =
      `version ${history.version} · last ${history.versions.length} change${history.versions.length === 1 ? '' : 's'}` +
      ` · updated ${new Date().toLocaleTimeString()}`;
  }

  async function pollConfig() {
    if (document.hidden) {
      // A background tab asks nothing; it refreshes as soon as it is shown again.
      setTimeout(pollConfig, CONFIG_POLL_MS);
      return;
    }
    try {
      renderConfig(await fetchJson(`/api/config/history?limit=${CONFIG_ROWS}`));
      $('config-panel').dataset.state = 'loaded';
    } catch {
      $('config-panel').dataset.state = 'error';
      $('config-summary').textContent = 'Cannot load the configuration history; retrying…';
    }
    setTimeout(pollConfig, CONFIG_POLL_MS);
  }

  // ── Protection: every named policy with its layers' live state, polled from /api/protection ─────────
  const PROTECTION_POLL_MS = 3000;

  function occupancy(value, max) {
    return Number.isFinite(value) && Number.isFinite(max) && max > 0 ? Math.min(value / max, 1) : 0;
  }

  /** A window exactly: 1h, 1m, 90s or 1500ms (the largest unit that divides it). */
  function windowText(ms) {
    if (!Number.isFinite(ms) || ms <= 0) return '—';
    if (ms % 3600000 === 0) return `${ms / 3600000}h`;
    if (ms % 60000 === 0) return `${ms / 60000}m`;
    if (ms % 1000 === 0) return `${ms / 1000}s`;
    return `${ms}ms`;
  }

  /** A rate-limit rule as `token_bucket 100/1m burst 150`. */
  function ruleText(rule) {
    if (!rule || !Number.isFinite(rule.limit)) return '—';
    const base = `${rule.algorithm} ${rule.limit}/${windowText(rule.windowMs)}`;
    return Number.isFinite(rule.burst) ? `${base} burst ${rule.burst}` : base;
  }

  /** Resources a pool may lend at most: max + maxOverflow. */
  function poolCapacity(pool) {
    return (
      (Number.isFinite(pool.max) ? pool.max : 0) + (Number.isFinite(pool.maxOverflow) ? pool.maxOverflow : 0)
    );
  }

  /** A layer as a chip: its kind, its live numbers, and a meter for the occupancy of a limiter. */
  function layerChip(layer) {
    const chip = el('span', { class: 'chip', 'data-testid': 'protection-layer', 'data-kind': layer.kind });
    let label = layer.kind;
    let load;
    if (layer.kind === 'breaker') {
      label = `breaker ${layer.failures ?? 0}/${layer.calls ?? 0} failed`;
      if (layer.state === 'open' && Number.isFinite(layer.retryAfterMs))
        label += ` · half-opens in ${formatDuration(layer.retryAfterMs)}`;
    } else if (layer.kind === 'bulkhead') {
      label = `bulkhead ${layer.running}/${layer.maxConcurrent} running · ${layer.queued}/${layer.maxQueue} queued`;
      load = occupancy(layer.running, layer.maxConcurrent);
    } else if (layer.kind === 'adaptive') {
      label = `adaptive ${layer.inflight}/${layer.limit} in flight · ${layer.queued} queued (${layer.algorithm})`;
      load = occupancy(layer.inflight, layer.limit);
    } else if (layer.kind === 'rateLimit') {
      const which = layer.shared ? `${layer.limiter} (shared)` : `${ruleText(layer.rule)} (own)`;
      label = `rateLimit ${which} · ${layer.admitted} admitted · ${layer.refused} refused`;
    } else if (layer.kind === 'pool') {
      const capacity = poolCapacity(layer);
      label = `pool ${layer.inUse}/${capacity} in use · ${layer.waiting} waiting`;
      load = occupancy(layer.inUse, capacity);
    }
    chip.textContent = label;
    if (load !== undefined) {
      chip.dataset.load = load >= 1 ? 'full' : 'ok';
      chip.append(el('meter', { class: 'meter', min: '0', max: '1', value: String(load) }));
    }
    chip.title = JSON.stringify(layer);
    return chip;
  }

  function protectionRow(policy) {
    const breaker = policy.layers.find((layer) => layer.kind === 'breaker');
    const row = el('tr', {
      'data-testid': 'protection-row',
      'data-policy': policy.name,
      'data-breaker': breaker ? breaker.state : 'none',
    });
    const breakerCell = el('td');
    if (breaker) {
      const state = badge('breaker', breaker.state, 'protection-breaker');
      breakerCell.append(state);
    } else {
      breakerCell.append(muted('—'));
    }
    const layersCell = el('td', { 'data-testid': 'protection-layers' });
    if (policy.layers.length === 0) layersCell.append(muted('no layers'));
    else layersCell.append(...policy.layers.map(layerChip));
    if (!policy.configured) layersCell.append(muted(' removed from config'));
    if (policy.lastError) {
      layersCell.append(
        el('code', { class: 'chip', title: policy.lastError.message }, policy.lastError.code),
      );
    }
    row.append(
      el('td', { 'data-testid': 'protection-name', class: 'name' }, policy.name),
      breakerCell,
      layersCell,
    );
    return row;
  }

  // Keys listed per limiter by GET /api/protection (its OVERVIEW_KEYS); a full list may hold more.
  const OVERVIEW_KEYS = 20;
  /** Keys shown per limiter: the most constrained of those listed. */
  const CONSTRAINED_KEYS = 3;
  /** Longest key shown in full (the whole key is in the tooltip). */
  const KEY_SHOWN_CHARS = 40;

  /** The listed keys with the least remaining first (then the longest retry-after, then by key). */
  function mostConstrained(keys) {
    return [...keys]
      .sort(
        (a, b) =>
          a.remaining - b.remaining ||
          b.retryAfterMs - a.retryAfterMs ||
          (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
      )
      .slice(0, CONSTRAINED_KEYS);
  }

  /** One key as a chip: the key (text only: keys come from callers), what remains, when a unit is back. */
  function keyChip(state) {
    const chip = el('span', { class: 'chip', 'data-testid': 'limit-key' });
    const shown = state.key.length > KEY_SHOWN_CHARS ? `${state.key.slice(0, KEY_SHOWN_CHARS)}…` : state.key;
    chip.append(el('code', { 'data-testid': 'limit-key-name' }, shown));
    let numbers = ` ${state.remaining} left`;
    if (state.retryAfterMs > 0) numbers += ` · retry in ${formatWait(state.retryAfterMs)}`;
    chip.append(document.createTextNode(numbers));
    chip.dataset.load = state.remaining > 0 ? 'ok' : 'full';
    chip.title = `${state.key}\nremaining ${state.remaining} · retry after ${state.retryAfterMs} ms · full in ${state.resetMs} ms`;
    return chip;
  }

  /** A wait in ms as 850ms, 12s or 3m20s. */
  function formatWait(ms) {
    if (ms < 1000) return `${Math.ceil(ms)}ms`;
    const seconds = Math.ceil(ms / 1000);
    if (seconds < 60) return `${seconds}s`;
    const minutes = Math.floor(seconds / 60);
    return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  }

  function limiterRow(limiter) {
    const id = `${limiter.kind}:${limiter.name}`;
    const row = el('tr', { 'data-testid': 'limits-row', 'data-limiter': id });
    const keys = Array.isArray(limiter.keys) ? limiter.keys : [];
    const ruleCell = el('td', { 'data-testid': 'limits-rule' }, ruleText(limiter.rule));
    if (!limiter.configured) ruleCell.append(muted(' removed from config'));
    const keysCell = el('td', { 'data-testid': 'limits-keys' });
    if (keys.length === 0) keysCell.append(muted('—'));
    else keysCell.append(...mostConstrained(keys).map(keyChip));
    row.append(
      el('td', { 'data-testid': 'limits-name', class: 'name' }, id),
      ruleCell,
      el('td', { 'data-testid': 'limits-store' }, limiter.store),
      el(
        'td',
        { 'data-testid': 'limits-users' },
        limiter.policies.length === 0 ? '—' : limiter.policies.join(', '),
      ),
      el(
        'td',
        { 'data-testid': 'limits-count', class: 'num' },
        keys.length >= OVERVIEW_KEYS ? `${keys.length}+` : String(keys.length),
      ),
      keysCell,
    );
    return row;
  }

  function poolRow(pool) {
    const row = el('tr', { 'data-testid': 'pools-row', 'data-policy': pool.policy });
    const overflow = pool.maxOverflow > 0 ? `+${pool.maxOverflow}` : '';
    const failures = [];
    if (pool.createFailures > 0) failures.push(`${pool.createFailures} failed creations`);
    if (pool.destroyFailures > 0) failures.push(`${pool.destroyFailures} failed destroys`);
    const failuresCell = el('td', { 'data-testid': 'pools-failures' });
    if (failures.length === 0) failuresCell.append(muted('—'));
    else failuresCell.textContent = failures.join(' · ');
    const nameCell = el('td', { 'data-testid': 'pools-name', class: 'name' }, pool.policy);
    if (pool.drained) nameCell.append(muted(' drained'));
    row.append(
      nameCell,
      el(
        'td',
        { 'data-testid': 'pools-use', class: 'num' },
        `${pool.inUse} / ${pool.size} / ${pool.max}${overflow}`,
      ),
      el('td', { 'data-testid': 'pools-idle', class: 'num' }, String(pool.idle)),
      el('td', { 'data-testid': 'pools-waiting', class: 'num' }, String(pool.waiting)),
      failuresCell,
    );
    return row;
  }

  function renderLimits(limiters, pools) {
    if (limiters.length === 0) {
      opsMessage('limits-body', 6, 'No rate limiters (configure foundation.rateLimits.rules or rateLimit).');
    } else {
      $('limits-body').replaceChildren(...limiters.map(limiterRow));
    }
    const exhausted = limiters.reduce(
      (count, limiter) => count + (limiter.keys || []).filter((key) => key.remaining === 0).length,
      0,
    );
    $('limits-summary').textContent =
      `${limiters.length} limiter${limiters.length === 1 ? '' : 's'}` +
      (exhausted > 0 ? ` (${exhausted} key${exhausted === 1 ? '' : 's'} exhausted)` : '') +
      ` · first ${OVERVIEW_KEYS} keys of each`;
    if (pools.length === 0) opsMessage('pools-body', 5, 'No pools (configure a policy with pool).');
    else $('pools-body').replaceChildren(...pools.map(poolRow));
    const waiting = pools.reduce((count, pool) => count + pool.waiting, 0);
    $('pools-summary').textContent =
      `${pools.length} pool${pools.length === 1 ? '' : 's'}` + (waiting > 0 ? ` (${waiting} waiting)` : '');
  }

  function renderProtection(policies) {
    if (policies.length === 0) {
      opsMessage('protection-body', 3, 'No protection policies (configure foundation.protection).');
    } else {
      $('protection-body').replaceChildren(...policies.map(protectionRow));
    }
    const open = policies.filter((policy) =>
      policy.layers.some((layer) => layer.kind === 'breaker' && layer.state !== 'closed'),
    ).length;
    $('protection-summary').textContent =
      `${policies.length} polic${policies.length === 1 ? 'y' : 'ies'}` +
      (open > 0 ? ` (${open} breaker${open === 1 ? '' : 's'} not closed)` : '') +
      ` · updated ${new Date().toLocaleTimeString()}`;
  }

  async function pollProtection() {
    if (document.hidden) {
      // A background tab asks nothing; it refreshes as soon as it is shown again.
      setTimeout(pollProtection, PROTECTION_POLL_MS);
      return;
    }
    try {
      const protection = await fetchJson('/api/protection');
      renderProtection(protection.policies);
      renderLimits(protection.limiters || [], protection.pools || []);
      $('protection-panel').dataset.state = 'loaded';
    } catch {
      $('protection-panel').dataset.state = 'error';
      $('protection-summary').textContent = 'Cannot load the protection policies; retrying…';
      $('limits-summary').textContent = '';
      $('pools-summary').textContent = '';
    }
    setTimeout(pollProtection, PROTECTION_POLL_MS);
  }

  // ── Metrics: small live charts of the in-memory series, polled from /api/metrics/series ─────────────
  const METRICS_POLL_MS = 3000;
  /** The time shown by each chart: the last 10 minutes (fine resolution: 1 s points). */
  const METRICS_WINDOW_MS = 10 * 60 * 1000;
  /** The shortest time axis (a young node's charts are stretched over at least this). */
  const METRICS_MIN_SPAN_MS = 30 * 1000;
  const CHART_WIDTH = 300;
  const CHART_HEIGHT = 80;
  const SVG_NS = 'http://www.w3.org/2000/svg';

  function formatNumber(value) {
    if (!Number.isFinite(value)) return '—';
    const abs = Math.abs(value);
    if (abs >= 100) return value.toFixed(0);
    if (abs >= 10) return value.toFixed(1);
    return value.toFixed(2);
  }

  const sumOf = (select) => ({ select, zeroFill: false });

  /**
   * The charts: which metric, which of its series (summed per sample time), and the unit. Counters are
   * recorded as rates per second; summaries per quantile (`quantile` tag); the event-loop delay per `stat`.
   */
  const CHARTS = [
    {
      id: 'requests',
      title: 'Requests',
      metric: 'foundation.control_bus.responses',
      ...sumOf(() => true),
      format: (v) => `${formatNumber(v)} req/s`,
    },
    {
      id: 'errors',
      title: 'Errors (5xx)',
      metric: 'foundation.control_bus.responses',
      // Every sample time of the metric counts, so "no 5xx" draws 0 rather than nothing.
      select: (tags) => tags.status === '5xx',
      zeroFill: true,
      format: (v) => `${formatNumber(v)} req/s`,
    },
    {
      id: 'latency',
      title: 'Request latency p99',
      metric: 'foundation.control_bus.request_latency',
      ...sumOf((tags) => tags.quantile === '0.99'),
      format: (v) => `${formatNumber(v)} ms`,
    },
    {
      id: 'event-loop',
      title: 'Event-loop delay p99',
      metric: 'foundation.runtime.event_loop_delay',
      ...sumOf((tags) => tags.stat === 'p99'),
      format: (v) => `${formatNumber(v)} ms`,
    },
    {
      id: 'heap',
      title: 'Heap used',
      metric: 'foundation.runtime.heap_used',
      ...sumOf(() => true),
      format: formatBytes,
    },
    {
      id: 'appends',
      title: 'Events appended',
      metric: 'foundation.events.appended',
      ...sumOf(() => true),
      format: (v) => `${formatNumber(v)} events/s`,
    },
  ];

  /** Server time minus browser time (from the `date` header), so `since` asks the server's last minutes. */
  let serverOffsetMs = 0;

  function svg(tag, attributes) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    return node;
  }

  function buildCharts() {
    const figures = CHARTS.map((chart) => {
      const figure = el('figure', {
        class: 'chart',
        'data-testid': 'metric-chart',
        'data-chart': chart.id,
        'data-state': 'empty',
        'data-points': '0',
      });
      const caption = el('figcaption');
      caption.append(
        el('span', { class: 'chart-title' }, chart.title),
        el('span', { class: 'chart-value', 'data-testid': 'chart-value' }, '—'),
      );
      const plot = el('div', { class: 'chart-plot' });
      const image = svg('svg', {
        viewBox: `0 0 ${CHART_WIDTH} ${CHART_HEIGHT}`,
        preserveAspectRatio: 'none',
        role: 'img',
        'aria-label': `${chart.title}, last ${METRICS_WINDOW_MS / 60000} minutes`,
      });
      image.append(
        svg('path', { class: 'chart-area', d: '' }),
        svg('path', { class: 'chart-line', 'data-testid': 'chart-line', d: '' }),
      );
      plot.append(image, el('p', { class: 'chart-empty', 'data-testid': 'chart-empty' }, 'no data'));
      const axis = el('div', { class: 'chart-axis' });
      axis.append(
        el('span', { 'data-testid': 'chart-max' }, ''),
        el('span', { 'data-testid': 'chart-span' }, ''),
      );
      figure.append(caption, plot, axis);
      chart.figure = figure;
      return figure;
    });
    $('metrics-charts').replaceChildren(...figures);
  }

  /** The chart's points: its selected series summed per sample time, oldest first. */
  function chartPoints(chart, series) {
    const byTime = new Map();
    for (const s of series) {
      const selected = chart.select(s.tags || {});
      if (!selected && !chart.zeroFill) continue;
      for (const point of s.points) {
        const sum = byTime.get(point.t) || 0;
        byTime.set(point.t, selected ? sum + point.v : sum);
      }
    }
    return [...byTime.entries()].sort((a, b) => a[0] - b[0]).map(([t, v]) => ({ t, v }));
  }

  /** Draws `points` over [start, end] (wall ms of the server). */
  function renderChart(chart, points, start, end) {
    const figure = chart.figure;
    const [area, line] = figure.querySelectorAll('path');
    const value = figure.querySelector('[data-testid="chart-value"]');
    const max = figure.querySelector('[data-testid="chart-max"]');
    figure.dataset.points = String(points.length);
    if (points.length === 0) {
      figure.dataset.state = 'empty';
      line.setAttribute('d', '');
      area.setAttribute('d', '');
      value.textContent = '—';
      max.textContent = '';
      return;
    }
    figure.dataset.state = 'data';
    const top = Math.max(...points.map((p) => p.v)) * 1.1 || 1;
    const x = (t) => Math.max(0, Math.min(CHART_WIDTH, ((t - start) / (end - start)) * CHART_WIDTH));
    const y = (v) => CHART_HEIGHT - 2 - (Math.max(0, v) / top) * (CHART_HEIGHT - 4);
    const coordinates = points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`);
    // A single point is drawn as a short flat segment so it shows.
    if (coordinates.length === 1)
      coordinates.push(`${Math.min(CHART_WIDTH, x(points[0].t) + 2)},${y(points[0].v).toFixed(1)}`);
    const d = `M${coordinates.join('L')}`;
    line.setAttribute('d', d);
    const first = coordinates[0].split(',')[0];
    const last = coordinates[coordinates.length - 1].split(',')[0];
    area.setAttribute('d', `${d}L${last},${CHART_HEIGHT}L${first},${CHART_HEIGHT}Z`);
    const latestPoint = points[points.length - 1];
    value.textContent = chart.format(latestPoint.v);
    value.title = `at ${formatTime(latestPoint.t)}`;
    max.textContent = `max ${chart.format(Math.max(...points.map((p) => p.v)))}`;
  }

  /** One metric's series since `since`; a metric the node does not know (404) has none. */
  async function fetchSeries(metric, since) {
    const response = await fetch(
      `/api/metrics/series?name=${encodeURIComponent(metric)}&resolution=fine&since=${since}`,
      { headers: { accept: 'application/json' } },
    );
    const date = Date.parse(response.headers.get('date') || '');
    if (Number.isFinite(date)) serverOffsetMs = date - Date.now();
    if (response.status === 404) return [];
    if (!response.ok) throw new Error(`series of ${metric} answered ${response.status}`);
    return (await response.json()).series;
  }

  async function pollMetrics() {
    if (document.hidden) {
      // A background tab asks nothing; it refreshes as soon as it is shown again.
      setTimeout(pollMetrics, METRICS_POLL_MS);
      return;
    }
    try {
      const now = Date.now() + serverOffsetMs;
      // The date header has 1 s resolution: ask a little more than the window.
      const since = Math.max(0, Math.floor(now - METRICS_WINDOW_MS - 5000));
      const metrics = [...new Set(CHARTS.map((chart) => chart.metric))];
      const results = await Promise.all(metrics.map((metric) => fetchSeries(metric, since)));
      const byMetric = new Map(metrics.map((metric, i) => [metric, results[i]]));
      // The charts share one time axis: the window, or less while the node is younger than the window.
      let newest = 0;
      let oldest = Infinity;
      for (const series of results) {
        for (const s of series) {
          if (s.points.length === 0) continue;
          oldest = Math.min(oldest, s.points[0].t);
          newest = Math.max(newest, s.points[s.points.length - 1].t);
        }
      }
      const end = Math.max(now, newest);
      const start = Math.min(end - METRICS_MIN_SPAN_MS, Math.max(end - METRICS_WINDOW_MS, oldest));
      for (const chart of CHARTS) {
        renderChart(chart, chartPoints(chart, byMetric.get(chart.metric)), start, end);
        chart.figure.querySelector('[data-testid="chart-span"]').textContent =
          `last ${formatDuration(end - start)}`;
      }
      $('metrics-panel').dataset.state = 'loaded';
      $('metrics-summary').textContent =
        `up to the last ${METRICS_WINDOW_MS / 60000} minutes at 1 s · updated ${new Date().toLocaleTimeString()}`;
    } catch {
      $('metrics-panel').dataset.state = 'error';
      $('metrics-summary').textContent = 'Cannot load the metrics; retrying…';
    }
    setTimeout(pollMetrics, METRICS_POLL_MS);
  }

  $('events-pause').addEventListener('click', () => setPaused(!tail.paused));
  $('events-filter-form').addEventListener('submit', (event) => {
    event.preventDefault();
    applyFilter();
  });
  $('events-filter').addEventListener('change', applyFilter);

  connect();
  startTail();
  void pollOps();
  void pollConfig();
  void pollProtection();
  buildCharts();
  void pollMetrics();
  setInterval(tickUptimes, 1000);
})();
