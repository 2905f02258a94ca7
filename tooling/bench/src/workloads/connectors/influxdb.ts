import { planned } from "./planned.ts";

export const influxdb = planned("influxdb", "pump → InfluxDB writes", "INFLUX_URL");
