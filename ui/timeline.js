// gatescope Step through: one timeline for the diagram, the token strip, the equations and
// the vector strips. Everything that shows the current step is drawn here and moves together
// in the browser (no server round trip per frame); the step is reported back to Python when
// the learner stops (pause, the end of the walk, or a pause after stepping).
// User text (the tokens) is only ever set with textContent.

const SVGNS = "http://www.w3.org/2000/svg";
const REPORT_MS = 400;
const S = 100; // SVG user units per diagram unit (the tables use a 12 × 6 canvas)

function el(tag, attrs = {}, parent = null, ns = null) {
  const node = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else if (k === "class") node.setAttribute("class", v);
    else node.setAttribute(k, v);
  }
  if (parent) parent.appendChild(node);
  return node;
}
const svg = (tag, attrs, parent) => el(tag, attrs, parent, SVGNS);

// "h_{t−1}" -> text with a subscript (tspans); "\n" starts a new line.
function setSymbol(node, label) {
  node.textContent = "";
  const lines = label.split("\n");
  if (lines.length > 1) {
    lines.forEach((line, j) => {
      const row = svg("tspan", { x: node.getAttribute("x"), dy: j === 0 ? `${-0.6 * (lines.length - 1)}em` : "1.2em" }, node);
      addSymbolParts(row, line);
    });
    return;
  }
  addSymbolParts(node, label);
}

function addSymbolParts(node, label) {
  const parts = label.split(/_\{([^}]*)\}|_(\w)/);
  for (let i = 0; i < parts.length; i += 3) {
    if (parts[i]) svg("tspan", { text: parts[i] }, node);
    const sub = parts[i + 1] || parts[i + 2];
    if (sub) {
      svg("tspan", { "baseline-shift": "sub", "font-size": "72%", text: sub }, node);
      svg("tspan", { "font-size": "100%", dx: "0.01", text: "" }, node);
    }
  }
}

function fitText(node, maxWidth) {
  node.removeAttribute("textLength");
  node.removeAttribute("lengthAdjust");
  if (!maxWidth) return;
  let width = 0;
  try { width = node.getComputedTextLength(); } catch (e) { return; }
  if (width > maxWidth) {
    node.setAttribute("textLength", maxWidth.toFixed(3));
    node.setAttribute("lengthAdjust", "spacingAndGlyphs");
  }
}

class Timeline {
  constructor(root, data, report) {
    this.root = root;
    this.report = report;
    this.playing = false;
    this.timer = null;
    this.speed = 1;
    this.focus = "all";
    this.sent = new Set();
    this.reportTimer = null;
    this.reduced = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    this.build(data);
  }

  // ---------------------------------------------------------------- building
  build(data) {
    this.data = data;
    this.key = data.key;
    this.n = data.frames.length;
    this.index = Math.max(0, data.frames.indexOf(data.step));
    this.lastDataStep = data.step;
    this.root.textContent = "";
    this.root.classList.toggle("gs-present", !!data.present);
    this.root.classList.toggle("gs-reduced", this.reduced);
    this.buildBar();
    const head = el("div", { class: "gs-head" }, this.root);
    this.title = el("div", { class: "gs-title", "aria-live": "polite" }, head);
    head.appendChild(this.dotsBox);
    this.buildTokens();
    const main = el("div", { class: "gs-main" }, this.root);
    const left = el("div", { class: "gs-left" }, main);
    const right = el("div", { class: "gs-right" }, main);
    this.buildDiagram(left);
    this.buildLegend(left);
    // where the run leaves float64's range or a gate saturates, said at the step it happens
    this.alert = el("p", { class: "gs-alert", "data-testid": "gs-alert" }, right);
    this.buildLadder(right);
    this.guide = el("p", { class: "gs-guide" }, right);
    this.buildStrips(right);
    this.show(this.index, true);
  }

  button(parent, cls, label, text, onClick) {
    const b = el("button", { class: cls, type: "button", "aria-label": label, title: label, text }, parent);
    b.addEventListener("click", (e) => { e.preventDefault(); onClick(); });
    return b;
  }

  buildBar() {
    const d = this.data;
    const bar = el("div", { class: "gs-bar", role: "toolbar", "aria-label": "Timeline controls" }, this.root);
    const walkName = d.walk > 0 ? "forward" : "backward";
    this.button(bar, "gs-first", `First step of the ${walkName} walk`, "⏮", () => this.user(() => this.go(d.walk > 0 ? 0 : this.n - 1)));
    this.button(bar, "gs-prev", "Previous step of this walk (←)", "◀ Prev", () => this.user(() => this.go(this.index - d.walk)));
    this.playBtn = this.button(bar, "gs-play", "Play (Space)", "▶ Play", () => this.toggle());
    this.button(bar, "gs-next", "Next step of this walk (→)", "Next ▶", () => this.user(() => this.go(this.index + d.walk)));
    const scrubBox = el("label", { class: "gs-scrub-box" }, bar);
    el("span", { class: "gs-sr", text: "Timestep t" }, scrubBox);
    this.scrub = el("input", { class: "gs-scrub", type: "range", min: 0, max: Math.max(this.n - 1, 0), step: 1, "aria-label": "Timestep t" }, scrubBox);
    if (this.n <= 1) this.scrub.disabled = true;
    this.scrub.addEventListener("input", () => this.user(() => this.show(Number(this.scrub.value))));
    this.counter = el("span", { class: "gs-counter", "aria-hidden": "true" }, bar);
    const speedBox = el("label", { class: "gs-speed-box" }, bar);
    el("span", { text: "Speed " }, speedBox);
    this.speedSel = el("select", { class: "gs-speed", "aria-label": "Playback speed" }, speedBox);
    for (const s of [0.5, 1, 2]) el("option", { value: s, text: `${s}×` }, this.speedSel);
    this.speedSel.value = "1";
    this.speedSel.addEventListener("change", () => { this.speed = Number(this.speedSel.value); });
    const dots = el("div", { class: "gs-dots", role: "group", "aria-label": "Sub-step in focus" });
    this.dotsBox = dots;
    this.dots = [];
    for (const name of ["all", ...d.substeps]) {
      const shown = (d.substepLabels || {})[name] || name;  // the notation's symbol
      const b = this.button(dots, "gs-dot", name === "all" ? "Show every sub-step" : `Focus on ${shown}`,
        name === "all" ? "all" : shown, () => this.setFocus(name));
      b.dataset.name = name;
      this.dots.push(b);
    }
  }

  buildTokens() {
    const d = this.data;
    const box = el("div", { class: "gs-tokens", "aria-hidden": "true" }, this.root);
    this.tokenRow = el("div", { class: "gs-token-row" }, box);
    this.chips = d.tokens.map((tok, j) => {
      const chip = el("span", { class: "gs-chip" }, this.tokenRow);
      el("span", { class: "gs-chip-t", text: String(d.frames[j]) }, chip);
      el("span", { class: "gs-chip-text", text: tok.length > 14 ? tok.slice(0, 13) + "…" : tok }, chip);
      if (d.tokenFill) { chip.style.borderBottomColor = d.tokenFill[j]; chip.classList.add("gs-chip-grad"); }
      chip.addEventListener("click", () => this.user(() => this.show(j)));
      return chip;
    });
  }

  buildDiagram(parent) {
    const dg = this.data.diagram;
    const top = dg.height - 0.05, bottom = 0.0;
    const Y = (y) => (top - y) * S;
    const X = (x) => x * S;
    const fig = el("figure", { class: "gs-figure" }, parent);
    const s = svg("svg", { class: "gs-diagram", viewBox: `0 0 ${dg.width * S} ${(top - bottom) * S}`, role: "img",
      "aria-label": `${this.data.cellName} cell diagram for unit ${this.data.unit}` }, fig);
    const defs = svg("defs", {}, s);
    const marker = svg("marker", { id: `gs-arrow-${this.data.uid}`, viewBox: "0 0 10 10", refX: 9, refY: 5,
      markerWidth: 5, markerHeight: 5, orient: "auto-start-reverse" }, defs);
    svg("path", { d: "M0,0 L10,5 L0,10 z", fill: "#555" }, marker);
    this.shapes = [];
    const layers = { state: svg("g", {}, s), wire: svg("g", {}, s), node: svg("g", {}, s), text: svg("g", {}, s) };
    dg.elements.forEach((e, j) => {
      const g = svg("g", { class: `gs-el gs-${e.shape}`, "data-id": e.id }, e.shape === "state" ? layers.state
        : e.shape === "wire" ? layers.wire : e.shape === "note" ? layers.text : layers.node);
      g.dataset.groups = e.groups.join(" ");
      const rec = { e, g, fill: null, text: null, j };
      if (e.hover) { svg("title", { text: e.hover }, g); g.setAttribute("tabindex", "-1"); }
      if (e.shape === "wire" || e.shape === "state") {
        const pts = e.at.map(([x, y]) => `${X(x)},${Y(y)}`).join(" ");
        if (e.shape === "state") {
          svg("polyline", { points: pts, class: "gs-casing" }, g);
          rec.fill = svg("polyline", { points: pts, class: "gs-line" }, g);
        } else {
          svg("polyline", { points: pts, class: "gs-wire", "marker-end": `url(#gs-arrow-${this.data.uid})` }, g);
        }
      } else if (e.shape === "note") {
        rec.text = svg("text", { x: X(e.at[0]), y: Y(e.at[1]), class: "gs-note" }, g);
      } else {
        const x = X(e.at[0]), y = e.at[1];
        const [w, h] = dg.sizes[e.shape].map((v) => v * S);
        if (e.shape === "op") rec.fill = svg("circle", { cx: x, cy: Y(y), r: w / 2, class: "gs-shape" }, g);
        else if (e.shape === "ellipse") rec.fill = svg("ellipse", { cx: x, cy: Y(y), rx: w / 2, ry: h / 2, class: "gs-shape" }, g);
        else rec.fill = svg("rect", { x: x - w / 2, y: Y(y) - h / 2, width: w, height: h, rx: e.shape === "pill" ? h / 2 : 0.08, class: "gs-shape" }, g);
        if (e.shape === "op") {
          svg("text", { x, y: Y(y), class: "gs-op-label", text: e.label }, g);
        } else if (e.shape === "pill") {
          const lab = svg("text", e.id === "x" ? { x: x - w / 2 - 12, y: Y(y), class: "gs-pill-label gs-end" }
            : { x, y: Y(y) - h / 2 - 20, class: "gs-pill-label" }, g);
          setSymbol(lab, e.label);
          rec.text = svg("text", { x, y: Y(y), class: "gs-value" }, g);
          rec.maxw = w - 12;
        } else {
          const head = svg("text", { x, y: Y(y) - h * 0.22, class: "gs-box-label" }, g);
          setSymbol(head, e.sym ? `${e.sym} · ${e.label}` : e.label);
          fitText(head, w - 10);
          rec.head = head;
          rec.text = svg("text", { x, y: Y(y) + h * 0.22, class: "gs-value" }, g);
          rec.maxw = w - 12;
        }
      }
      this.shapes.push(rec);
    });
  }

  buildLegend(parent) {
    const box = el("div", { class: "gs-legend" }, parent);
    for (const lg of this.data.legend) {
      const item = el("div", { class: "gs-legend-item" }, box);
      el("span", { class: "gs-legend-title", text: lg.title }, item);
      el("span", { class: "gs-legend-tick", text: lg.ticks[0] }, item);
      const bar = el("span", { class: "gs-legend-bar", "aria-hidden": "true" }, item);
      bar.style.background = `linear-gradient(to right, ${lg.colors.join(", ")})`;
      el("span", { class: "gs-legend-tick", text: lg.ticks[1] }, item);
    }
    el("p", { class: "gs-caption", text: this.data.caption }, parent);
  }

  buildLadder(parent) {
    el("div", { class: "gs-ladder-title", text: this.data.ladderTitle }, parent);
    const box = el("div", { class: "gs-eqs" }, parent);
    this.lines = this.data.ladder.map((line) => {
      const row = el("div", { class: "gs-eq" }, box);
      row.dataset.name = line.name;
      row.dataset.groups = line.groups.join(" ");
      mathPieces(el("span", { class: "gs-lhs" }, row), line.lhs);
      if (line.symbolic.length) {
        el("span", { class: "gs-eqop", text: "=" }, row);
        mathPieces(el("span", { class: "gs-sym" }, row), line.symbolic);
      }
      const nums = [];
      const width = Math.max(0, ...line.numbers.map((r) => r.length));
      for (let k = 0; k < width; k++) {
        el("span", { class: "gs-eqop", text: "=" }, row);
        nums.push(el("span", { class: "gs-num" }, row));
      }
      el("span", { class: "gs-eqop", text: "=" }, row);
      const result = el("span", { class: "gs-eq-result" }, row);
      return { line, row, nums, result };
    });
  }

  buildStrips(parent) {
    const H = this.data.H;
    el("div", { class: "gs-ladder-title", text: this.data.stripsTitle }, parent);
    const box = el("div", { class: "gs-strips", role: "img",
      "aria-label": "Every unit's value at this step, one row per quantity; unit k outlined" }, parent);
    this.stripCells = this.data.strips.map((row) => {
      const line = el("div", { class: "gs-strip-row" }, box);
      symbolHtml(el("span", { class: "gs-strip-label" }, line), row.label);
      const cells = el("div", { class: "gs-strip-cells" }, line);
      const out = [];
      for (let k = 0; k < H; k++) {
        const c = el("span", { class: k === this.data.unit ? "gs-strip-cell gs-strip-unit" : "gs-strip-cell" }, cells);
        out.push(c);
      }
      el("span", { class: "gs-strip-tick", text: `${row.ticks[0]} … ${row.ticks[1]}` }, line);
      return out;
    });
  }

  // ---------------------------------------------------------------- showing one step
  show(index, initial = false) {
    const d = this.data;
    index = Math.min(Math.max(index, 0), this.n - 1);
    this.index = index;
    const t = d.frames[index];
    this.root.dataset.t = String(t);
    this.title.textContent = "";
    el("span", { class: "gs-t", text: `t = ${t}` }, this.title);
    const token = d.tokens[index];
    this.title.append(`${token ? ` · “${token}”` : ""} · ${d.mode} · unit ${d.unit}`);
    this.counter.textContent = `t = ${String(t).padStart(String(d.T - 1).length, "0")} / ${d.T - 1}`;
    this.scrub.value = String(index);
    this.scrub.setAttribute("aria-valuetext", token ? `t = ${t}, ${token}` : `t = ${t}`);
    this.chips.forEach((c, j) => c.classList.toggle("gs-chip-now", j === index));
    const alert = d.alerts ? d.alerts[index] : "";
    this.alert.textContent = alert;
    this.alert.hidden = !alert;
    this.centreChip(index);
    for (const rec of this.shapes) this.paint(rec, index);
    for (const L of this.lines) {
      const nums = L.line.numbers[index] || [];
      L.nums.forEach((span, k) => { span.textContent = nums[k] || ""; span.previousSibling.hidden = !nums[k]; span.hidden = !nums[k]; });
      L.result.textContent = L.line.result[index];
      L.result.style.background = L.line.fill[index];
      L.result.style.color = L.line.ink[index];
    }
    d.strips.forEach((row, r) => {
      const codes = row.codes[index];
      this.stripCells[r].forEach((cell, k) => {
        const c = codes[k];
        cell.style.background = c === "~" ? "#9e9e9e" : row.palette[parseInt(c, 32)];
      });
    });
    this.applyFocus();
    if (!initial) this.scheduleReport();
  }

  paint(rec, index) {
    const d = this.data.diagram;
    const fills = d.fill[rec.j], texts = d.text[rec.j];
    if (rec.e.shape === "note") {
      const note = this.data.factor ? this.data.factor[index] : "";
      setSymbol(rec.text, note || "");
      const lines = [...rec.text.children].filter((c) => c.hasAttribute("dy"));
      for (const line of lines.length ? lines : [rec.text]) fitText(line, (rec.e.maxw || 3.3) * S);
      return;
    }
    if (rec.fill && fills) {
      const colour = fills[index];
      if (rec.e.shape === "state") {
        rec.fill.setAttribute("stroke", colour);
        const widths = this.data.diagram.widths[rec.j];
        const w = (widths ? widths[index] : 0.1) * S;
        rec.fill.setAttribute("stroke-width", w);
        rec.g.querySelector(".gs-casing").setAttribute("stroke-width", w + 5);
      } else {
        rec.fill.setAttribute("fill", colour);
      }
    } else if (rec.fill && rec.e.shape !== "state") {
      rec.fill.setAttribute("fill", "#ffffff");
    }
    if (rec.text) {
      if (rec.e.id === "x") rec.text.textContent = this.data.tokens[index];
      else rec.text.textContent = texts ? texts[index] : "";
      const fill = rec.e.id === "x" || !fills ? "#ffffff" : fills[index];
      rec.text.setAttribute("fill", inkFor(fill));
      if (rec.head) rec.head.setAttribute("fill", inkFor(fill));
      fitText(rec.text, rec.maxw);
    }
  }

  centreChip(index) {
    const chip = this.chips[index];
    const box = this.tokenRow.parentElement;
    if (!chip || !box.clientWidth) return;
    const shift = Math.max(0, Math.min(chip.offsetLeft + chip.offsetWidth / 2 - box.clientWidth / 2,
      this.tokenRow.scrollWidth - box.clientWidth));
    this.tokenRow.style.transform = `translateX(${-shift}px)`;
  }

  setFocus(name) {
    this.focus = name;
    this.applyFocus();
  }

  applyFocus() {
    const f = this.focus;
    this.dots.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.name === f)));
    for (const rec of this.shapes) {
      const groups = rec.g.dataset.groups.split(" ");
      rec.g.classList.toggle("gs-faded", f !== "all" && !groups.includes(f));
    }
    const guides = this.data.guides || {};
    if (this.guide) this.guide.textContent = guides[f] || guides.all || "";
    let current = null;
    for (const L of this.lines) {
      const inFocus = f === "all" ? L === this.lines[0] : L.row.dataset.groups.split(" ").includes(f);
      L.row.classList.toggle("gs-faded", f !== "all" && !inFocus);
      L.row.classList.toggle("gs-current", inFocus && current === null);
      if (inFocus && current === null) current = L;
    }
  }

  // ---------------------------------------------------------------- moving
  go(index) {
    this.show(Math.min(Math.max(index, 0), this.n - 1));
  }

  user(action) {
    if (this.playing) this.pause();
    action();
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  play() {
    const d = this.data;
    if (this.n <= 1) return;
    const atEnd = d.walk > 0 ? this.index >= this.n - 1 : this.index <= 0;
    if (atEnd) this.show(d.walk > 0 ? 0 : this.n - 1);
    this.playing = true;
    this.root.classList.add("gs-playing");
    this.playBtn.textContent = "⏸ Pause";
    this.playBtn.setAttribute("aria-label", "Pause (Space)");
    this.tick();
  }

  tick() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (!this.playing || !this.root.isConnected) return;
      const d = this.data;
      const next = this.index + d.walk;
      if (next < 0 || next >= this.n) { this.pause(); return; }
      this.show(next);
      const last = d.walk > 0 ? next >= this.n - 1 : next <= 0;
      if (last) this.pause();
      else this.tick();
    }, this.data.stepMs / this.speed);
  }

  pause() {
    clearTimeout(this.timer);
    this.playing = false;
    this.root.classList.remove("gs-playing");
    this.playBtn.textContent = "▶ Play";
    this.playBtn.setAttribute("aria-label", "Play (Space)");
    this.scheduleReport();
  }

  scheduleReport() {
    clearTimeout(this.reportTimer);
    if (this.playing) return;
    this.reportTimer = setTimeout(() => {
      if (this.playing || !this.root.isConnected) return;
      const t = this.data.frames[this.index];
      if (t === this.reported) return;
      this.reported = t;
      this.sent.add(t);
      this.report(t);
    }, REPORT_MS);
  }

  // new data from the server: same run -> keep the learner's place unless the server moved it
  update(data) {
    if (data.key !== this.key) {
      this.pause();
      this.sent.clear();
      this.reported = data.step;
      this.build(data);
      return;
    }
    this.data = data;
    if (data.step !== this.lastDataStep && !this.sent.has(data.step) && !this.playing) {
      const j = data.frames.indexOf(data.step);
      if (j >= 0) this.show(j, true);
      this.reported = data.step;
    }
    this.lastDataStep = data.step;
  }

  onKey(e) {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return;
    const path = e.composedPath();
    const target = path[0];
    const tag = target && target.tagName ? target.tagName.toLowerCase() : "";
    const inside = path.includes(this.root);
    const typing = ["input", "textarea", "select"].includes(tag) || (target && target.isContentEditable)
      || (target && target.getAttribute && ["slider", "spinbutton", "radio", "combobox", "textbox", "listbox"].includes(target.getAttribute("role")));
    if (typing && !(inside && target === this.scrub && e.key === " ")) return;
    if (!inside && !(target === document.body || target === document.documentElement)) return;
    const d = this.data;
    if (e.key === "ArrowRight") { e.preventDefault(); this.user(() => this.go(this.index + d.walk)); }
    else if (e.key === "ArrowLeft") { e.preventDefault(); this.user(() => this.go(this.index - d.walk)); }
    else if (e.key === " " || e.key === "Spacebar") {
      if (tag === "button" && inside) return; // the button's own click toggles
      e.preventDefault();
      this.toggle();
    }
  }
}

// MathML generated on the server from constant LaTeX (never user text), one piece per term,
// so a long equation breaks between its terms.
function mathPieces(parent, pieces) {
  for (const piece of pieces) {
    const span = el("span", { class: "gs-chunk" }, parent);
    span.innerHTML = piece;
  }
}

// The same notation in HTML: "f_t" -> f<sub>t</sub> (text nodes only, never markup).
function symbolHtml(node, label) {
  const parts = label.split(/_\{([^}]*)\}|_(\w)/);
  for (let i = 0; i < parts.length; i += 3) {
    if (parts[i]) node.append(parts[i]);
    const sub = parts[i + 1] || parts[i + 2];
    if (sub) el("sub", { text: sub }, node);
  }
}

function inkFor(hex) {
  const h = (hex || "#ffffff").replace("#", "");
  const lin = [0, 2, 4].map((i) => {
    const c = parseInt(h.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
  });
  const lum = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
  return lum < 0.179 ? "#ffffff" : "#111111";
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  let host = parentElement.querySelector(".gs-root");
  if (!host) host = el("div", { class: "gs-root", "data-testid": "gs-timeline" }, parentElement);
  if (!host.__timeline) {
    host.__timeline = new Timeline(host, data, (t) => setStateValue("step", t));
  } else {
    host.__timeline.report = (t) => setStateValue("step", t);
    host.__timeline.update(data);
  }
  const tl = host.__timeline;
  const onKey = (e) => tl.onKey(e);
  document.addEventListener("keydown", onKey);
  const onResize = () => tl.centreChip(tl.index);
  window.addEventListener("resize", onResize);
  return () => {
    document.removeEventListener("keydown", onKey);
    window.removeEventListener("resize", onResize);
  };
}
