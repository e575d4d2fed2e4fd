export { createSignupRoutes } from "./signup.routes.ts";
export { confirmSignup, requestSignup } from "./signup.service.ts";
