export { SETTING_INFO, SETTING_NAMES, type SettingName, type SettingValues } from './catalog.ts';
export {
  openSettings, POLL_MS, SettingsService, type Actor, type ApplyResult, type Change, type Preview, type SettingDescription, type SettingsOptions,
  type SettingsSnapshot, type WriteOptions,
} from './service.ts';
export { displayValue, settingNamed, type FieldError, type SettingSource } from './validate.ts';
export { valueOf, type Live } from './live.ts';
