import { planned } from "./planned.ts";

export const mysql = planned("mysql", "pump → MySQL batched inserts", "MYSQL_URL");
