// The pages (hub/line/static/pages.js) use the global `liff`, as with LINE's own CDN build.
import liff from "@line/liff";

window.liff = liff;
