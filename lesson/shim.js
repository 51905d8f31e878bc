// gatescope lesson file: draws every Plotly figure and mounts the Step through timeline
// (ui/timeline.js, unchanged) the way Streamlit would: the same {parentElement, data,
// setStateValue} inside a shadow root with ui/timeline.css. There is no server to tell the
// step to, so setStateValue does nothing; the keyboard belongs to the timeline in focus.
(function () {
  const DATA = JSON.parse(document.getElementById("ls-data").textContent);

  for (const div of document.querySelectorAll("[data-figure]")) {
    const fig = JSON.parse(document.getElementById(div.dataset.figure).textContent);
    Plotly.newPlot(div, { data: fig.data, layout: fig.layout, frames: fig.frames || [], config: DATA.config })
      .then(() => { div.dataset.drawn = "true"; });
  }

  const mounted = new Map();
  function mount(host, data) {
    const shadow = host.attachShadow({ mode: "open" });
    const style = document.createElement("style");
    style.textContent = DATA.css;
    shadow.appendChild(style);
    const cleanup = gsMountTimeline({
      parentElement: shadow, data, key: data.key, name: "gatescope.timeline",
      setStateValue: () => {}, setTriggerValue: () => {},
    });
    // several timelines share this page: each answers the keys pressed inside it only
    if (typeof cleanup === "function") cleanup();
    const root = shadow.querySelector(".gs-root");
    host.addEventListener("keydown", (e) => root.__timeline.onKey(e));
    window.addEventListener("resize", () => root.__timeline.centreChip(root.__timeline.index));
    return root;
  }

  let cell = DATA.first.split("-")[0];
  let mode = DATA.first.split("-")[1];
  function select() {
    const key = `${cell}-${mode}`;
    for (const host of document.querySelectorAll("[data-timeline]")) {
      const on = host.dataset.timeline === key;
      if (!on && mounted.has(host.dataset.timeline)) {
        const tl = mounted.get(host.dataset.timeline).__timeline;
        if (tl.playing) tl.pause();
      }
      host.hidden = !on;
      if (on && !mounted.has(key)) mounted.set(key, mount(host, DATA.timelines[key]));
    }
    for (const b of document.querySelectorAll(".ls-pick")) {
      const pressed = b.dataset.cell ? b.dataset.cell === cell : b.dataset.mode === mode;
      b.setAttribute("aria-pressed", String(pressed));
    }
    const tl = mounted.get(key).__timeline;
    tl.show(tl.index, true); // lay out again now that it is visible
  }
  for (const b of document.querySelectorAll(".ls-pick")) {
    b.addEventListener("click", () => {
      if (b.dataset.cell) cell = b.dataset.cell;
      if (b.dataset.mode) mode = b.dataset.mode;
      select();
    });
  }
  select();
})();
