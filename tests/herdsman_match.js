// zigbee-herdsman's own Device.findMatchingOtaImage over an index file, for tests.
//
// Usage: node herdsman_match.js DIST < queries.json
//   DIST: the dist/ folder of an unpacked zigbee-herdsman package (npm pack; never installed)
//   stdin: {"index": "/abs/index.json", "devices": [{"modelID", "manufacturerName",
//           "imageType", "manufacturerCode", "fileVersion", "hardwareVersion"?}, ...]}
// Prints a JSON list: for each device, the position in the index of the entry herdsman
// offers, or null.  Modules herdsman needs only for radios (serialport, ...) are not in
// the package; they are replaced by inert stubs, the matching code is the package's own.
"use strict";
const Module = require("module");
const load = Module._load;
const stub = new Proxy(function () {}, {
  get: (_t, key) => (key === "__esModule" ? true : stub),
  apply: () => stub,
  construct: () => stub,
});
Module._load = function (request) {
  try {
    return load.apply(this, arguments);
  } catch (e) {
    if (e.code === "MODULE_NOT_FOUND" && !request.startsWith(".") && !request.startsWith("/")) return stub;
    throw e;
  }
};
const dist = process.argv[2];
const { Device } = require(dist + "/controller/model/device.js");
const quiet = () => {};
require(dist + "/utils/logger.js").setLogger({ debug: quiet, info: quiet, warning: quiet, error: quiet });
const fs = require("fs");

async function main() {
  const job = JSON.parse(fs.readFileSync(0, "utf-8"));
  const index = JSON.parse(fs.readFileSync(job.index, "utf-8"));
  const out = [];
  for (const d of job.devices) {
    const self = { ieeeAddr: "0x0000000000000001", modelID: d.modelID, manufacturerName: d.manufacturerName };
    const current = { imageType: d.imageType, manufacturerCode: d.manufacturerCode, fileVersion: d.fileVersion };
    if (d.hardwareVersion !== null && d.hardwareVersion !== undefined) current.hardwareVersion = d.hardwareVersion;
    const meta = await Device.prototype.findMatchingOtaImage.call(self, { url: job.index }, current, {});
    out.push(meta === undefined ? null : index.findIndex((e) => JSON.stringify(e) === JSON.stringify(meta)));
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}
main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + "\n");
  process.exit(3);
});
