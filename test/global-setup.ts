import { prepareTemplate } from "./db.ts";

export default async function setup() {
  if (process.env.TEST_DATABASE_URL) await prepareTemplate(process.env.TEST_DATABASE_URL);
}
