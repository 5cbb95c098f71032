export function nightlyReport() {
  return { calls: 0, generatedAt: new Date().toISOString() };
}
