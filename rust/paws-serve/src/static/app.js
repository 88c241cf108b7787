// The page's only script, served by paws itself (no external code). It posts the photo
// to /api/predict and shows the top-3 breeds, or "not sure" when the best score is low.
"use strict";

const $ = (id) => document.getElementById(id);

function label(breed) {
  return breed.replace(/_/g, " ");
}

function percent(score) {
  return (100 * score).toFixed(score >= 0.995 || score < 0.1 ? 1 : 0) + " %";
}

function setStatus(text, isError) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

function show(result) {
  const best = result.top[0];
  const verdict = $("verdict");
  if (result.sure) {
    verdict.textContent = `${label(best.breed)} (${best.species})`;
    verdict.className = "";
  } else {
    verdict.textContent = `Not sure: perhaps ${label(best.breed)} (${best.species})`;
    verdict.className = "unsure";
  }
  const list = $("breeds");
  list.replaceChildren();
  result.top.forEach((s, i) => {
    const li = document.createElement("li");
    li.id = `breed-${i}`;
    li.dataset.breed = s.breed;
    li.dataset.score = String(s.score);
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = label(s.breed);
    const species = document.createElement("span");
    species.className = "species";
    species.textContent = `${s.species} · ${percent(s.score)}`;
    const bar = document.createElement("div");
    bar.className = "bar";
    const fill = document.createElement("span");
    fill.style.width = `${Math.max(1, Math.round(100 * s.score))}%`;
    bar.append(fill);
    li.append(name, species, bar);
    list.append(li);
  });
  $("result").hidden = false;
}

async function upload(file) {
  if (!file) return;
  $("result").hidden = true;
  const preview = $("preview");
  if (preview.src) URL.revokeObjectURL(preview.src);
  preview.src = URL.createObjectURL(file);
  setStatus("Looking at the photo…", false);
  const form = new FormData();
  form.append("image", file, file.name);
  try {
    const response = await fetch("/api/predict", { method: "POST", body: form });
    const body = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
    if (!response.ok) {
      const retry = response.headers.get("Retry-After");
      setStatus(body.error + (retry ? ` (try again in ${retry} s)` : ""), true);
      return;
    }
    setStatus("", false);
    show(body);
  } catch (e) {
    setStatus(`Could not reach paws: ${e.message}`, true);
  }
}

for (const id of ["camera", "chooser"]) {
  $(id).addEventListener("change", (event) => {
    upload(event.target.files[0]);
    event.target.value = "";
  });
}

fetch("/api/model")
  .then((r) => r.json())
  .then((m) => {
    $("model-info").textContent =
      `Model: ${m.breeds.length} breeds, features of ${m.extractor.model}, paws ${m.paws_version}.`;
  })
  .catch(() => {});
