// The carelevel web form (docs/serve.md, "Web form"). No framework, no build step.
//
// It reads the served rulesets (GET /v1/rulesets), the chosen one's questions
// (GET /v1/rulesets/{id}: declaration order, question text, kind, missing policy,
// allowed answers) and their scales (GET /v1/rulesets/{id}/schema?of=answers:
// values, ranges, descriptions, assumed values), renders one fieldset per question
// with native controls, and on every change posts the answers to
// POST /v1/rulesets/{id}/assess and shows the Assessment (docs/assessment.md).
//
// Every text from the server is put into the page with textContent, never as markup.
// The result area carries data-state ("pending", "ready", "error") and data-answers
// (the answers JSON the shown result was computed from), so a test can wait for the
// result of exactly the answers it entered.
"use strict";

(function () {
  const NOT_ANSWERED = "";
  const $ = (id) => document.getElementById(id);

  const state = {
    rulesets: [],
    ruleset: null, // describe JSON of the chosen ruleset
    schema: null, // answers JSON Schema of the chosen ruleset
    seq: 0, // number of the latest assess request
    timer: null,
  };

  /** An element with attributes and text or element children. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === false || value === null || value === undefined) continue;
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function show(node, visible) {
    node.hidden = !visible;
  }

  /** A refusal from the API, with its status and problem body. */
  class ApiProblem extends Error {
    constructor(status, body, url) {
      const problem = body && body.error ? body.error : null;
      super(problem ? problem.message : `HTTP ${status} from ${url}`);
      this.status = status;
      this.code = problem ? problem.code : null;
      this.where = problem ? problem.where : null;
    }
  }

  async function api(url, options) {
    const response = await fetch(url, Object.assign({
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store",
    }, options || {}));
    let body = null;
    try {
      body = await response.json();
    } catch (e) {
      body = null;
    }
    if (!response.ok) throw new ApiProblem(response.status, body, url);
    if (body === null) throw new Error(`${url} did not answer with JSON`);
    return body;
  }

  /** Words for a failed call; 401 says that the server wants a token. */
  function describeProblem(e) {
    if (e instanceof ApiProblem && e.status === 401) {
      return "This carelevel server has authentication on: every API call needs its own " +
        "bearer token (each token is for one call to one URL), and this page does not " +
        "obtain tokens. Use the form on a server with authentication off (the loopback " +
        "default of carelevel serve), or call the API with tokens. See docs/serve.md, " +
        "\"Web form\". The server said: " + e.message;
    }
    if (e instanceof ApiProblem) {
      const where = e.where ? ` (at ${e.where})` : "";
      return `The server refused the request (HTTP ${e.status}, ${e.code || "no code"})${where}: ${e.message}`;
    }
    return `The server could not be reached or did not answer as expected: ${e.message}`;
  }

  function fail(e) {
    const problem = $("problem");
    problem.textContent = describeProblem(e);
    show(problem, true);
    $("status").textContent = "The form cannot be used.";
  }

  // ------------------------------------------------------------------ start

  async function start() {
    let list;
    try {
      list = await api("/v1/rulesets");
    } catch (e) {
      fail(e);
      return;
    }
    state.rulesets = list.rulesets || [];
    if (state.rulesets.length === 0) {
      fail(new Error("the server serves no ruleset"));
      return;
    }
    const select = $("ruleset");
    clear(select);
    for (const r of state.rulesets) {
      select.append(el("option", { value: r.id, text: `${r.title} (${r.id} ${r.version})` }));
    }
    const wanted = new URLSearchParams(location.search).get("ruleset");
    if (wanted && state.rulesets.some((r) => r.id === wanted)) select.value = wanted;
    select.addEventListener("change", () => loadRuleset(select.value));
    show($("chooser"), true);
    $("answers").addEventListener("change", schedule);
    $("answers").addEventListener("input", schedule);
    $("answers").addEventListener("reset", () => setTimeout(schedule, 0));
    $("answers").addEventListener("submit", (event) => event.preventDefault());
    $("print").addEventListener("click", () => window.print());
    window.addEventListener("beforeprint", stampPrintTime);
    await loadRuleset(select.value);
  }

  async function loadRuleset(id) {
    $("status").textContent = `Loading ruleset ${id}…`;
    show($("answers"), false);
    show($("result"), false);
    let described;
    let schema;
    try {
      const path = `/v1/rulesets/${encodeURIComponent(id)}`;
      [described, schema] = await Promise.all([api(path), api(`${path}/schema?of=answers`)]);
    } catch (e) {
      fail(e);
      return;
    }
    state.ruleset = described;
    state.schema = schema;
    $("meta-id").textContent = described.id;
    $("meta-version").textContent = described.version;
    $("meta-title").textContent = described.title;
    $("meta-sha256").textContent = described.sha256;
    renderQuestions();
    show($("answers"), true);
    show($("result"), true);
    $("status").textContent =
      `Ruleset ${described.id} ${described.version}: ${described.questions.length} questions.`;
    assessNow();
  }

  // -------------------------------------------------------------- questions

  /** The schema of one question without its `null` alternative (it carries the
   *  scale, `description` and `x-missing-policy`). */
  function scaleOf(id) {
    const p = (state.schema.properties || {})[id] || {};
    if (Array.isArray(p.anyOf)) return p.anyOf.find((s) => s.type !== "null") || {};
    return p;
  }

  function policyText(q, scale) {
    const policy = scale["x-missing-policy"] || q.missing;
    if (q.missing === "ask") {
      return "If not answered: kept open; the highest level it could lead to is recommended, with review.";
    }
    if (q.missing === "error") return "Must be answered: the assessment refuses answers without it.";
    const assumed = String(policy).replace(/^assume /, "");
    return `If not answered: ${displayValue(q, assumed)} is assumed, and the result says so.`;
  }

  function displayValue(q, value) {
    if (q.kind === "boolean") {
      if (value === true || value === "true") return "yes";
      if (value === false || value === "false") return "no";
    }
    return String(value);
  }

  function renderQuestions() {
    const container = $("questions");
    clear(container);
    state.ruleset.questions.forEach((q, index) => {
      const scale = scaleOf(q.id);
      const description = scale.description;
      const descId = `desc-${q.id}`;
      const policyId = `policy-${q.id}`;
      const describedBy = description ? `${policyId} ${descId}` : policyId;
      const fieldset = el("fieldset", {
        className: "question",
        id: `q-${q.id}`,
        "data-question": q.id,
        "data-kind": q.kind,
        "aria-describedby": describedBy,
      });
      fieldset.append(el("legend", {},
        el("span", { className: "number", text: `${index + 1}. ` }),
        el("span", { className: "question-text", text: q.question }),
        " ",
        el("span", { className: "id", text: `(${q.id})` })));
      fieldset.append(el("p", { className: "policy", id: policyId, text: policyText(q, scale) }));
      if (description) {
        fieldset.append(el("details", {},
          el("summary", { text: "What the answers mean" }),
          el("p", { id: descId, text: description })));
      }
      if (q.kind === "integer") {
        const inputId = `a-${q.id}`;
        const min = scale.minimum;
        const max = scale.maximum;
        fieldset.append(el("p", { className: "number-field" },
          el("label", { for: inputId, text: `A whole number from ${min} to ${max}; leave empty if not known` }),
          " ",
          el("input", {
            type: "number", id: inputId, name: q.id, min, max, step: 1,
            inputmode: "numeric", "aria-describedby": describedBy,
          })));
      } else {
        const options = q.kind === "boolean"
          ? [["true", "Yes"], ["false", "No"]]
          : (scale.enum || []).map((v) => [v, v]);
        const list = el("div", { className: "options", role: "presentation" });
        const choices = [[NOT_ANSWERED, "Not answered"]].concat(options);
        choices.forEach(([value, label], i) => {
          const inputId = `a-${q.id}-${i}`;
          list.append(el("label", { for: inputId, className: value === NOT_ANSWERED ? "unanswered" : null },
            el("input", {
              type: "radio", id: inputId, name: q.id, value,
              checked: value === NOT_ANSWERED,
            }),
            " ",
            label));
        });
        fieldset.append(list);
      }
      fieldset.append(el("p", { className: "field-problem", id: `problem-${q.id}`, hidden: true }));
      container.append(fieldset);
    });
  }

  /** The answers in the form: {answers, problems}; unanswered questions are left out. */
  function collect() {
    const answers = {};
    const problems = [];
    for (const q of state.ruleset.questions) {
      const fieldProblem = $(`problem-${q.id}`);
      fieldProblem.hidden = true;
      if (q.kind === "integer") {
        const input = $(`a-${q.id}`);
        input.removeAttribute("aria-invalid");
        if (input.validity.badInput) {
          // The browser holds text that is not a number: never drop it silently.
          problems.push([q, input, "is not a number"]);
        } else if (input.value.trim() !== "") {
          answers[q.id] = Number(input.value);
        }
        continue;
      }
      const checked = document.querySelector(`input[type=radio][name="${CSS.escape(q.id)}"]:checked`);
      if (!checked || checked.value === NOT_ANSWERED) continue;
      answers[q.id] = q.kind === "boolean" ? checked.value === "true" : checked.value;
    }
    for (const [q, input, what] of problems) {
      input.setAttribute("aria-invalid", "true");
      const p = $(`problem-${q.id}`);
      p.textContent = `The answer ${what}: expected a whole number. The recommendation is not updated until it is fixed or cleared.`;
      p.hidden = false;
    }
    return { answers, problems };
  }

  // ---------------------------------------------------------------- assess

  function schedule() {
    clearTimeout(state.timer);
    $("result").dataset.state = "pending";
    show($("pending"), true);
    state.timer = setTimeout(assessNow, 150);
  }

  async function assessNow() {
    clearTimeout(state.timer);
    const seq = ++state.seq;
    const result = $("result");
    const { answers, problems } = collect();
    renderPrintAnswers(answers);
    result.dataset.state = "pending";
    show($("pending"), true);
    if (problems.length) {
      showAssessProblem(`The answer to “${problems[0][0].question}” (${problems[0][0].id}) is not a number. ` +
        "No recommendation is shown until it is a whole number or cleared.", answers);
      return;
    }
    const body = JSON.stringify(answers);
    let assessment;
    try {
      assessment = await api(`/v1/rulesets/${encodeURIComponent(state.ruleset.id)}/assess`, {
        method: "POST",
        headers: { Accept: "application/json", "Content-Type": "application/json" },
        body,
      });
    } catch (e) {
      if (seq !== state.seq) return;
      if (e instanceof ApiProblem && e.where && e.where.startsWith("body.")) {
        const id = e.where.slice(5);
        const p = $(`problem-${id}`);
        if (p) {
          p.textContent = e.message;
          p.hidden = false;
        }
      }
      showAssessProblem(describeProblem(e), answers);
      return;
    }
    if (seq !== state.seq) return; // a newer request is on its way
    renderAssessment(assessment);
    show($("assess-problem"), false);
    show($("outcome"), true);
    show($("pending"), false);
    result.dataset.answers = body;
    result.dataset.state = "ready";
  }

  function showAssessProblem(text, answers) {
    const problem = $("assess-problem");
    problem.textContent = text;
    show(problem, true);
    show($("outcome"), false); // never show a result for other answers than these
    show($("pending"), false);
    const result = $("result");
    result.dataset.answers = JSON.stringify(answers);
    result.dataset.state = "error";
  }

  function question(id) {
    return state.ruleset.questions.find((q) => q.id === id);
  }

  function levelLabel(ref) {
    const level = state.ruleset.levels.find((l) => l.id === ref.id || l.id === ref);
    return level ? level.label : String(ref.id || ref);
  }

  function why(a) {
    const deciding = a.deciding_rules.join(", ");
    const total = a.score ? a.score.total : 0;
    switch (a.basis) {
      case "rules": return `Fired rules call for this level: ${deciding}.`;
      case "score": return `The score (${total}) falls in the band for this level.`;
      case "rules_and_score": return `Fired rules call for this level (${deciding}), and so does the score (${total}).`;
      case "lowest_level": return "No rule calls for more; this is the least intensive level.";
      case "missing_answers":
        return `Missing answers could call for this level; the answers given call for at least ${levelLabel(a.level_range.lowest)}.`;
      default: return `Basis: ${a.basis}.`;
    }
  }

  function flagItem(flag) {
    return el("li", { className: `flag flag-${flag.kind}`, "data-flag": flag.id, "data-kind": flag.kind },
      el("span", { className: "tag", text: flag.kind === "refer" ? "REFER" : flag.kind }),
      " ",
      el("span", { className: "flag-message", text: flag.message }),
      " ",
      el("span", { className: "id", text: `(${flag.id})` }),
      flag.source ? el("span", { className: "source", text: `Source: ${flag.source}` }) : null);
  }

  const KIND_ORDER = { refer: 0, review: 1, info: 2 };
  function byKind(flags) {
    return flags.slice().sort((x, y) => KIND_ORDER[x.kind] - KIND_ORDER[y.kind]);
  }

  function renderAssessment(a) {
    const refer = a.flags.filter((f) => f.kind === "refer");
    const referBlock = $("refer");
    clear($("refer-flags"));
    if (a.refer) {
      $("refer-text").textContent = "A refer flag fired: the person needs care beyond these levels, " +
        "or an emergency evaluation, before any placement.";
      refer.forEach((f) => $("refer-flags").append(flagItem(f)));
    }
    show(referBlock, a.refer);

    $("level").textContent = a.level.label;
    $("level").dataset.level = a.level.id;
    $("level-id").textContent = `(${a.level.id})`;
    const lo = a.level_range.lowest;
    const hi = a.level_range.highest;
    $("range").textContent = lo.rank === hi.rank
      ? "Level range: settled; no missing answer could change the level."
      : `Level range: ${levelLabel(lo)} to ${levelLabel(hi)}, depending on the missing answers.`;
    const review = $("review");
    review.className = a.needs_review ? "needs-review" : "";
    review.textContent = a.needs_review
      ? "NEEDS REVIEW before placement:"
      : "Needs review: no (no missing answer could change the level or raise a refer flag).";
    clear($("review-reasons"));
    if (a.needs_review) a.review_reasons.forEach((r) => $("review-reasons").append(el("li", { text: r })));
    show($("review-reasons"), a.needs_review && a.review_reasons.length > 0);

    $("why").textContent = why(a);

    const fired = $("fired");
    clear(fired);
    $("fired-heading").textContent = a.fired_rules.length
      ? `Rules that fired (${a.fired_rules.length})`
      : "Rules that fired: none";
    for (const rule of a.fired_rules) {
      const deciding = a.deciding_rules.includes(rule.id);
      fired.append(el("li", { className: deciding ? "rule deciding" : "rule", "data-rule": rule.id },
        el("span", { className: "rule-head" },
          el("span", { className: "id", text: rule.id }),
          ` calls for at least ${levelLabel(rule.level)}`,
          deciding ? el("strong", { className: "decides", text: " (decides the level)" }) : null),
        el("span", { className: "because", text: rule.because }),
        rule.source ? el("span", { className: "source", text: `Source: ${rule.source}` }) : null));
    }

    renderDimensions(a.dimensions);

    const scoreBlock = $("score-block");
    if (a.score) {
      const s = a.score;
      const parts = s.breakdown.map((b) => `${b.factor} = ${b.value}: ${b.points}`).join("; ");
      const band = s.band_level
        ? `band ${levelLabel(s.band_level)}${s.decides ? ", which decides the level" : ", which does not decide the level"}`
        : "band not settled: missing answers could move it";
      const open = s.unanswered_min || s.unanswered_max
        ? ` Unanswered questions could add ${s.unanswered_min} to ${s.unanswered_max} points.`
        : "";
      $("score").textContent = `Total ${s.total} (${band}). ${parts}.${open}`;
    }
    show(scoreBlock, Boolean(a.score));

    const others = byKind(a.flags.filter((f) => f.kind !== "refer"));
    const flags = $("flags");
    clear(flags);
    $("flags-heading").textContent = a.flags.length === 0
      ? "Flags: none"
      : refer.length
        ? `Flags (${a.flags.length}; the refer flags are shown first, above)`
        : `Flags (${a.flags.length})`;
    others.forEach((f) => flags.append(flagItem(f)));

    const possible = $("possible");
    clear(possible);
    byKind(a.possible_flags).forEach((f) => possible.append(flagItem(f)));
    show($("possible-block"), a.possible_flags.length > 0);

    const missing = $("missing");
    clear(missing);
    const ordered = a.missing.filter((m) => m.could_change_level)
      .concat(a.missing.filter((m) => !m.could_change_level));
    $("missing-heading").textContent = a.missing.length
      ? `Missing answers (${a.missing.length}; ${a.missing.filter((m) => m.could_change_level).length} could change the level)`
      : "Missing answers: none";
    for (const m of ordered) {
      const q = question(m.factor);
      const allowed = q ? q.allowed_answers : "";
      const link = el("a", { href: `#q-${m.factor}`, text: m.question });
      link.addEventListener("click", (event) => {
        const target = document.querySelector(`#q-${CSS.escape(m.factor)} input`);
        if (target) {
          event.preventDefault();
          target.focus();
          target.scrollIntoView({ block: "center" });
        }
      });
      missing.append(el("li", {
        className: m.could_change_level ? "matters" : "does-not-matter",
        "data-missing": m.factor,
      },
      link,
      " ",
      el("span", { className: "id", text: `(${m.factor})` }),
      el("span", {
        className: "effect",
        text: m.could_change_level ? "could change the level" : "cannot change the level",
      }),
      el("span", { className: "allowed", text: `Allowed answers: ${allowed}` })));
    }

    const assumed = $("assumed");
    clear(assumed);
    for (const x of a.assumed) {
      const q = question(x.factor);
      assumed.append(el("li", { "data-assumed": x.factor },
        `${q ? q.question : x.factor} (${x.factor}) = ${q ? displayValue(q, x.value) : String(x.value)}`));
    }
    show($("assumed-block"), a.assumed.length > 0);

    const p = a.provenance;
    $("provenance").textContent =
      `Ruleset ${p.ruleset_id} ${p.ruleset_version} (SHA-256 ${p.ruleset_sha256}); ` +
      `engine ${p.engine} ${p.engine_version}. Decision support only: a qualified ` +
      "professional makes the final placement.";
  }

  // "By dimension": two table rows per dimension, only when the ruleset declares them
  // (the Assessment has no `dimensions` key otherwise): its label, the level it calls
  // for (and could rise to) and its fired rules, then its summary across the table's
  // width (the result column is narrow: a summary column of its own was a word wide).
  // Text only (textContent), so labels and summaries from a ruleset cannot inject markup.
  function renderDimensions(dimensions) {
    const body = $("dimensions-body");
    clear(body);
    const list = Array.isArray(dimensions) ? dimensions : [];
    for (const d of list) {
      const rules = d.fired_rules.length
        ? el("ul", { className: "dimension-rules" },
          ...d.fired_rules.map((id) => el("li", { className: "id", "data-rule": id, text: id })))
        : "none";
      body.append(el("tr", {
        "data-dimension": d.id,
        "data-level": d.level.id,
        "data-could-rise-to": d.could_rise_to ? d.could_rise_to.id : null,
      },
      el("th", { scope: "row", text: d.label }),
      el("td", {},
        el("span", { className: "dimension-level", text: levelLabel(d.level) }),
        d.could_rise_to
          ? el("span", {
            className: "dimension-rise",
            text: `could rise to ${levelLabel(d.could_rise_to)}, depending on unanswered questions`,
          })
          : null),
      el("td", {}, rules)));
    body.append(el("tr", { className: "dimension-summary-row", "data-summary-of": d.id },
      el("td", { className: "dimension-summary", colspan: 3, text: d.summary })));
    }
    show($("dimensions-block"), list.length > 0);
  }

  // ----------------------------------------------------------------- print

  function renderPrintAnswers(answers) {
    const list = $("print-answers-list");
    clear(list);
    for (const q of state.ruleset.questions) {
      const given = Object.prototype.hasOwnProperty.call(answers, q.id);
      list.append(el("li", { "data-question": q.id },
        el("span", { className: "question-text", text: q.question }),
        " ",
        el("span", { className: "id", text: `(${q.id})` }),
        ": ",
        el("strong", {
          className: given ? "answer" : "answer unanswered",
          text: given ? displayValue(q, answers[q.id]) : "not answered",
        })));
    }
  }

  function stampPrintTime() {
    $("print-time").textContent = `Printed ${new Date().toLocaleString()}.`;
  }

  document.addEventListener("DOMContentLoaded", start);
})();
