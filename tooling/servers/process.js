// A pump run as a child process by a connector test (`node <script>`, Node strips the types), its
// stdout lines kept: the kill -9 tests of the connectors start, kill and restart such pumps.
import { spawn } from "node:child_process";

export class PumpProcess {
  constructor(script, env, args = []) {
    this.lines = [];
    this.stderrTail = "";
    this.child = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let pending = "";
    this.child.stdout.on("data", (chunk) => {
      pending += chunk.toString();
      const parts = pending.split("\n");
      pending = parts.pop();
      this.lines.push(...parts);
    });
    this.child.stderr.on("data", (chunk) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-20_000);
    });
    this.exited = new Promise((resolve) => this.child.on("exit", (code, signal) => resolve(signal === null ? code : null)));
  }

  get stderr() {
    return this.stderrTail;
  }

  last(prefix) {
    for (let i = this.lines.length - 1; i >= 0; i--) if (this.lines[i].startsWith(prefix)) return this.lines[i].slice(prefix.length).trim();
    return undefined;
  }

  kill(signal) {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}
