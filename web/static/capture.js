// 手机采集: record an inspection's checks offline, with photos, time and position, and sync them.
// Everything recorded lives in this browser's IndexedDB until the server has it: a record is
// marked synced only when the server says it holds it, so a sync cut off is simply run again.
(function () {
  "use strict";
  var DB_NAME = "rectify-capture", db = null, sample = null, session = null, editing = null;
  var recorded = {};  // "village|household|item" -> true: the checks done here, marked in the item list
  var $ = function (id) { return document.getElementById(id); };
  var form = $("form");

  // --- storage ----------------------------------------------------------------------------------
  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        var d = request.result;
        d.createObjectStore("meta", {keyPath: "key"});
        d.createObjectStore("records", {keyPath: "id"});
        d.createObjectStore("photos", {keyPath: "id"});
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
  function store(name, mode) { return db.transaction(name, mode || "readonly").objectStore(name); }
  function done(request) {
    return new Promise(function (resolve, reject) {
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
  function getMeta(key) { return done(store("meta").get(key)).then(function (r) { return r ? r.value : null; }); }
  function setMeta(key, value) { return done(store("meta", "readwrite").put({key: key, value: value})); }
  function put(name, value) { return done(store(name, "readwrite").put(value)); }
  function all(name) { return done(store(name).getAll()); }
  function get(name, id) { return done(store(name).get(id)); }

  // --- clock, place, ids --------------------------------------------------------------------------
  function offset() { return session && session.offset ? session.offset : 0; }
  function serverNow(ms) { return new Date((ms === undefined ? Date.now() : ms) + offset()); }
  function localDay(instant) { return new Date(instant.getTime() + 8 * 3600000).toISOString().slice(0, 10); }
  function position() {
    return new Promise(function (resolve) {
      if (!navigator.geolocation) return resolve(null);
      navigator.geolocation.getCurrentPosition(function (p) {
        resolve({latitude: p.coords.latitude, longitude: p.coords.longitude, accuracy: p.coords.accuracy});
      }, function () { resolve(null); }, {enableHighAccuracy: true, timeout: 6000, maximumAge: 120000});
    });
  }
  function randomId(n) {
    var letters = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789", bytes = new Uint8Array(n), out = "";
    crypto.getRandomValues(bytes);
    for (var i = 0; i < n; i++) out += letters[bytes[i] % letters.length];
    return out;
  }
  async function nextRecordId() {
    var device = await getMeta("device");
    if (!device) { device = randomId(6); await setMeta("device", device); }
    var seq = (await getMeta("seq")) || 0;
    seq += 1;
    await setMeta("seq", seq);
    return "M" + device + "-" + ("000" + seq).slice(-4);
  }

  // --- what the page says -------------------------------------------------------------------------
  function notice(text, kind) {
    var box = $("notice");
    box.hidden = !text;
    box.className = "flash " + (kind || "ok");
    box.textContent = "";
    if (!text) return;
    box.appendChild(document.createTextNode(text));
    if (kind === "login") {
      box.className = "flash error";
      var a = document.createElement("a");
      a.href = "/login?next=/capture";
      a.textContent = " 去登录";
      box.appendChild(a);
    }
  }
  function showNet() {
    var el = $("net");
    el.textContent = navigator.onLine ? "在线" : "离线";
    el.className = "net" + (navigator.onLine ? "" : " offline");
  }
  function option(select, value, text) {
    var o = document.createElement("option");
    o.value = value;
    o.textContent = text;
    select.appendChild(o);
  }

  // --- talking to the server -----------------------------------------------------------------------
  async function call(url, options) {
    var response = await fetch(url, Object.assign({credentials: "same-origin", cache: "no-store"}, options || {}));
    var data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (response.status === 401) { var err = new Error((data && data.error) || "请先登录"); err.login = true; throw err; }
    return {status: response.status, data: data || {}};
  }
  async function refreshSession() {
    var answer = await call("/capture/session");
    if (answer.status !== 200) throw new Error(answer.data.error || "无法连接系统");
    session = answer.data;
    session.offset = Date.parse(session.now) - Date.now();
    await setMeta("session", session);
    return session;
  }

  // --- the sample ---------------------------------------------------------------------------------
  function fillInspections(names, chosen) {
    var select = $("inspection");
    select.textContent = "";
    names.forEach(function (n) { option(select, n, n); });
    if (chosen) select.value = chosen;
  }
  async function loadSample() {
    if (!navigator.onLine) return notice("现在离线:请到有网络的地方载入抽样", "error");
    try {
      await refreshSession();
      var name = $("inspection").value;
      var answer = await call("/capture/sample?inspection=" + encodeURIComponent(name));
      if (answer.status !== 200) return notice(answer.data.error || "载入失败", "error");
      sample = answer.data;
      await setMeta("sample:" + sample.inspection, sample);
      await setMeta("current", sample.inspection);
      showSample();
      notice("已载入「" + sample.inspection + "」的抽样,可以离线记录了");
    } catch (e) { notice(e.login ? e.message : "载入失败:" + e.message, e.login ? "login" : "error"); }
  }
  function showSample() {
    var households = 0, rows = 0;
    var levels = {county: 0, village: 0, household: 0};
    sample.items.forEach(function (i) { levels[i.level] += 1; });
    sample.villages.forEach(function (v) { households += v.households.length; });
    rows = sample.counties.length * levels.county + sample.villages.length * levels.village + households * levels.household;
    $("sample-info").textContent = "「" + sample.inspection + "」:" + sample.villages.length + " 个村、" + households +
      " 户,共 " + rows + " 项检查";
    var village = form.elements.village;
    village.textContent = "";
    sample.villages.forEach(function (v, i) { option(village, String(i), v.county + " " + v.township + " " + v.village); });
    sample.counties.forEach(function (c) { option(village, "county:" + c, c + "(县级项目)"); });
    var leader = form.elements.leader;
    leader.textContent = "";
    sample.leaders.forEach(function (n) { option(leader, n, n); });
    if (sample.leader) leader.value = sample.leader;
    var units = $("units");
    units.textContent = "";
    sample.units.forEach(function (n) { option(units, n, n); });
    $("record").hidden = false;
    $("records").hidden = false;
    placeChanged();
  }
  function chosenPlace() {
    var value = form.elements.village.value;
    if (value.indexOf("county:") === 0) return {county: value.slice(7), level: "county"};
    var v = sample.villages[Number(value)];
    return v ? {county: v.county, township: v.township, village: v.village, level: "village", entry: v} : null;
  }
  function placeChanged() {
    var place = chosenPlace(), item = form.elements.check, kept = item.value;
    item.textContent = "";
    sample.items.forEach(function (i) {
      if ((place && place.level === "county") === (i.level === "county")) {
        var done = i.level !== "household" && recorded[placeKey(place, "") + i.code];
        option(item, i.code, (done ? "✓ " : "") + i.code + " " + i.title);
      }
    });
    if (kept) item.value = kept;
    itemChanged();
  }
  function placeKey(place, household) {
    return (place ? place.county + "|" + (place.village || "") : "") + "|" + (household || "") + "|";
  }
  function currentItem() {
    var code = form.elements.check.value;
    return sample.items.filter(function (i) { return i.code === code; })[0];
  }
  function itemChanged() {
    var item = currentItem(), place = chosenPlace(), field = $("household-field"), select = form.elements.household;
    $("standard").textContent = item && item.standard ? "检查标准:" + item.standard : "";
    var needs = item && item.level === "household" && place && place.entry;
    field.hidden = !needs;
    select.textContent = "";
    if (needs) place.entry.households.forEach(function (h) {
      var done = recorded[placeKey(place, h.no) + item.code];
      option(select, h.no, (done ? "✓ " : "") + h.head + "(" + h.no + ")");
    });
  }
  function resultChanged() {
    var result = (form.querySelector("input[name=result]:checked") || {}).value;
    $("problem-fields").hidden = result !== "不符合";
    $("description-field").hidden = result === "符合";
    $("on-site-fields").hidden = !form.elements.on_site.checked;
  }

  // --- recording ----------------------------------------------------------------------------------
  function formRecord() {
    var place = chosenPlace(), item = currentItem(), el = form.elements;
    var result = (form.querySelector("input[name=result]:checked") || {}).value || "";
    var record = {county: place ? place.county : "", township: place && place.township || "",
                  village: place && place.village || "", item: item ? item.code : "", result: result,
                  team: sample.team, inspector: session ? session.user : ""};
    if (item && item.level === "household" && place && place.entry) {
      var h = place.entry.households.filter(function (x) { return x.no === el.household.value; })[0];
      if (h) { record.household_no = h.no; record.household_head = h.head; }
    }
    if (result !== "符合") record.description = el.description.value.trim();
    if (result === "不符合") {
      record.severity = el.severity.value;
      record.unit = el.unit.value.trim();
      record.deadline = el.deadline.value;
      record.on_site = el.on_site.checked ? "是" : "否";
      if (el.on_site.checked) { record.on_site_note = el.on_site_note.value.trim(); record.leader = el.leader.value; }
    }
    return record;
  }
  function phoneCheck(record) {
    if (!record.result) return "请选择结果";
    if (record.result !== "符合" && !record.description) return "请填写问题描述";
    if (record.on_site === "是" && !record.on_site_note) return "请填写现场解决情况";
    return null;
  }
  async function save(event) {
    event.preventDefault();
    var record = formRecord(), wrong = phoneCheck(record);
    if (wrong) return notice(wrong, "error");
    $("save").disabled = true;
    try {
      var old = editing ? await get("records", editing) : null;
      var now = serverNow();
      record.id = old ? old.id : await nextRecordId();
      record.inspection = sample.inspection;
      record.captured_at = old ? old.captured_at : now.toISOString();
      record.checked_on = old ? old.checked_on : localDay(now);
      record.position = old ? old.position : await position();
      record.photos = old ? old.photos.slice() : [];
      var files = form.elements.photos.files;
      for (var i = 0; i < files.length; i++) {
        var photoId = randomId(12), file = files[i];
        await put("photos", {id: photoId, blob: file, name: file.name || "照片.jpg",
                             taken_at: serverNow(file.lastModified || Date.now()).toISOString(),
                             position: record.position, sha256: null});
        record.photos.push(photoId);
      }
      record.state = "draft";
      record.errors = [];
      await put("records", record);
      notice((old ? "已修改 " : "已保存 ") + record.id + (navigator.onLine ? "" : "(离线,联网后同步)"));
      resetForm();
      await showRecords();
    } catch (e) { notice("保存失败:" + e.message, "error"); }
    $("save").disabled = false;
  }
  function resetForm() {
    var keep = {village: form.elements.village.value, item: form.elements.check.value};
    form.reset();
    form.elements.village.value = keep.village;
    placeChanged();
    form.elements.check.value = keep.item;
    itemChanged();
    editing = null;
    $("form-title").textContent = "2 记录一项检查";
    $("cancel-edit").hidden = true;
    $("previews").textContent = "";
    Array.prototype.forEach.call(form.querySelectorAll(".field-error"), function (el) { el.classList.remove("field-error"); });
    resultChanged();
  }
  async function edit(id) {
    var r = await get("records", id);
    if (!r || r.state === "synced") return;
    editing = id;
    var el = form.elements;
    var index = sample.villages.findIndex(function (v) { return v.village === r.village && v.township === r.township; });
    el.village.value = index >= 0 ? String(index) : "county:" + r.county;
    placeChanged();
    el.check.value = r.item;
    itemChanged();
    if (r.household_no) el.household.value = r.household_no;
    Array.prototype.forEach.call(form.querySelectorAll("input[name=result]"), function (x) { x.checked = x.value === r.result; });
    el.description.value = r.description || "";
    el.severity.value = r.severity || "一般";
    el.unit.value = r.unit || "";
    el.deadline.value = r.deadline || "";
    el.on_site.checked = r.on_site === "是";
    el.on_site_note.value = r.on_site_note || "";
    if (r.leader) el.leader.value = r.leader;
    resultChanged();
    (r.errors || []).forEach(function (e) {
      var target = el[e.field === "household_no" || e.field === "household_head" ? "household" : e.field];
      if (target && target.classList) target.classList.add("field-error");
    });
    $("form-title").textContent = "修改记录 " + r.id;
    $("cancel-edit").hidden = false;
    form.scrollIntoView();
  }

  // --- the list -----------------------------------------------------------------------------------
  async function showRecords() {
    var records = (await all("records")).filter(function (r) { return sample && r.inspection === sample.inspection; });
    records.sort(function (a, b) { return a.id < b.id ? -1 : 1; });
    var list = $("list"), pending = 0, wrong = 0, synced = 0;
    recorded = {};
    records.forEach(function (r) {
      recorded[placeKey({county: r.county, village: r.village}, r.household_no) + r.item] = true;
    });
    list.textContent = "";
    records.forEach(function (r) {
      var li = document.createElement("li");
      li.id = "r-" + r.id;
      li.className = r.state === "synced" ? "synced" : (r.errors && r.errors.length ? "error" : "");
      var place = [r.township, r.village, r.household_head].filter(Boolean).join(" ") || r.county;
      var state = r.state === "synced" ? (r.code ? "已同步 " + r.code : "已同步") : (r.errors && r.errors.length ? "需修改" : "待同步");
      li.appendChild(document.createTextNode(r.id + " · " + place + " · " + r.item + " · " + r.result +
        (r.photos.length ? " · 照片 " + r.photos.length + " 张" : "") + " · " + state));
      if (r.errors && r.errors.length) {
        var ul = document.createElement("ul");
        ul.className = "row-errors";
        r.errors.forEach(function (e) {
          var item = document.createElement("li");
          item.textContent = (e.label ? "「" + e.label + "」" : "") + (e.value ? "值「" + e.value + "」:" : "") + e.message;
          ul.appendChild(item);
        });
        li.appendChild(ul);
      }
      if (r.state !== "synced") {
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = "修改";
        b.setAttribute("data-edit", r.id);
        li.appendChild(b);
      }
      list.appendChild(li);
      if (r.state === "synced") synced += 1; else if (r.errors && r.errors.length) wrong += 1; else pending += 1;
    });
    $("counts").textContent = "(待同步 " + pending + ",需修改 " + wrong + ",已同步 " + synced + ")";
    if (sample) {  // redraw the marks, keeping what is chosen
      var el = form.elements, kept = [el.check.value, el.household.value];
      placeChanged();
      el.check.value = kept[0];
      itemChanged();
      if (kept[1]) el.household.value = kept[1];
    }
  }

  // --- syncing ------------------------------------------------------------------------------------
  async function uploadPhotos(records) {
    var ids = [];
    records.forEach(function (r) { ids = ids.concat(r.photos); });
    var sent = 0;
    for (var i = 0; i < ids.length; i++) {
      var photo = await get("photos", ids[i]);
      if (!photo || photo.sha256) { sent += 1; continue; }
      var body = new FormData();
      body.append("photo", photo.blob, photo.name);
      var answer = await call("/capture/photos", {method: "POST", body: body, headers: {"X-CSRF-Token": session.csrf}});
      if (answer.status !== 200) {
        var owner = records.filter(function (r) { return r.photos.indexOf(ids[i]) >= 0; })[0];
        owner.errors = [{field: "photos", label: "照片", message: answer.data.error || "照片上传失败", value: photo.name}];
        await put("records", owner);
        throw new Error("照片「" + photo.name + "」未被接受,请修改记录 " + owner.id);
      }
      photo.sha256 = answer.data.sha256;
      await put("photos", photo);
      sent += 1;
      $("sync-status").textContent = "正在上传照片 " + sent + "/" + ids.length;
    }
  }
  async function payload(record) {
    var out = {};
    Object.keys(record).forEach(function (k) {
      if (["state", "errors", "code", "inspection", "photos"].indexOf(k) < 0) out[k] = record[k];
    });
    out.photos = [];
    for (var i = 0; i < record.photos.length; i++) {
      var p = await get("photos", record.photos[i]);
      out.photos.push({sha256: p.sha256, name: p.name, taken_at: p.taken_at, position: p.position});
    }
    return out;
  }
  async function sync() {
    if (!navigator.onLine) return notice("现在离线,记录已保存在手机上;有网络后再同步", "error");
    var button = $("sync");
    button.disabled = true;
    try {
      await refreshSession();
      var records = (await all("records")).filter(function (r) {
        return r.inspection === sample.inspection && r.state !== "synced";
      });
      if (!records.length) { notice("没有待同步的记录"); return; }
      records.sort(function (a, b) { return a.id < b.id ? -1 : 1; });
      await uploadPhotos(records);
      $("sync-status").textContent = "正在同步 " + records.length + " 条记录…";
      var body = {inspection: sample.inspection, records: []};
      for (var i = 0; i < records.length; i++) body.records.push(await payload(records[i]));
      var answer = await call("/capture/sync", {method: "POST", body: JSON.stringify(body),
        headers: {"Content-Type": "application/json", "X-CSRF-Token": session.csrf}});
      if (answer.status === 200) {
        var kept = answer.data.records || {};
        for (var j = 0; j < records.length; j++) {
          var r = records[j], got = kept[r.id];
          if (got && got.synced) { r.state = "synced"; r.code = got.code; r.errors = []; await put("records", r); }
        }
        notice("同步完成:新建问题 " + answer.data.created + " 个,此前已同步 " + answer.data.unchanged + " 条");
      } else if (answer.status === 422) {
        var byRecord = {};
        (answer.data.errors || []).forEach(function (e) { (byRecord[e.record] = byRecord[e.record] || []).push(e); });
        for (var k = 0; k < records.length; k++) {
          records[k].errors = byRecord[records[k].id] || [];
          await put("records", records[k]);
        }
        notice("有 " + Object.keys(byRecord).length + " 条记录需要修改,本次未写入任何记录;请按提示修改后再同步", "error");
      } else {
        notice(answer.data.error || "同步失败(" + answer.status + "),请稍后重试", "error");
      }
    } catch (e) {
      notice(e.login ? e.message : "同步中断:" + e.message + ";已记录的内容仍在手机上,请重新同步",
             e.login ? "login" : "error");
    } finally {
      button.disabled = false;
      $("sync-status").textContent = "";
      await showRecords();
    }
  }

  // --- start --------------------------------------------------------------------------------------
  async function start() {
    showNet();
    window.addEventListener("online", showNet);
    window.addEventListener("offline", showNet);
    if ("serviceWorker" in navigator) navigator.serviceWorker.register("/capture/sw.js", {scope: "/capture"}).catch(function () {});
    if (!window.indexedDB) return notice("此浏览器不能离线保存记录,请用手机自带浏览器或 Chrome 打开", "error");
    db = await openDb();
    session = await getMeta("session");
    var current = await getMeta("current");
    if (navigator.onLine) {
      try { await refreshSession(); } catch (e) { notice(e.message, e.login ? "login" : "error"); }
    }
    if (session) {
      $("who").textContent = session.user + "(" + session.role + ")";
      fillInspections(session.inspections, current);
    }
    if (current) {
      sample = await getMeta("sample:" + current);
      if (sample) { showSample(); await showRecords(); }
    }
    resultChanged();
  }
  $("load-sample").addEventListener("click", loadSample);
  $("sync").addEventListener("click", sync);
  $("cancel-edit").addEventListener("click", resetForm);
  form.addEventListener("submit", save);
  form.elements.village.addEventListener("change", placeChanged);
  form.elements.check.addEventListener("change", itemChanged);
  form.addEventListener("change", function (e) {
    if (e.target.name === "result" || e.target.name === "on_site") resultChanged();
    if (e.target.name === "photos") {
      var box = $("previews");
      box.textContent = "";
      Array.prototype.forEach.call(e.target.files, function (f) {
        var img = document.createElement("img");
        img.src = URL.createObjectURL(f);
        img.alt = f.name;
        box.appendChild(img);
      });
    }
  });
  $("list").addEventListener("click", function (e) {
    var id = e.target.getAttribute && e.target.getAttribute("data-edit");
    if (id) edit(id);
  });
  start().catch(function (e) { notice("页面启动失败:" + e.message, "error"); });
})();
