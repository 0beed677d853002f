// The broker harness lives in sim/ so that the benchmarks can start one too.
export { freePort, Mosquitto } from '../../sim/mosquittoProcess.js';
