/**
 * What each diagnostic code means, in Chinese and English: the editor shows it in the reader's
 * language beside the diagnostic's own (English, detailed) message. Typed over the closed set of
 * codes, so a new code does not compile until it has its texts.
 */
import type { CalendarDiagnosticCode } from './calendar-load.ts';
import type { CalendarWarning } from './calendar.ts';
import type { DiagnosticCode } from './diagnostics.ts';

export const DIAGNOSTIC_TEXT: Record<DiagnosticCode, { zh: string; en: string }> = {
  PROC_YAML_SYNTAX: { zh: 'YAML 语法错误', en: 'YAML syntax error' },
  PROC_SCHEMA: { zh: '不符合定义的结构', en: 'Not the shape a definition has' },
  PROC_DUPLICATE_KEY: { zh: '重复的键', en: 'Duplicate key' },
  PROC_DUPLICATE_ID: { zh: '重复的标识', en: 'Duplicate id' },
  PROC_UNKNOWN_TARGET: { zh: '目标状态不存在', en: 'The target state does not exist' },
  PROC_UNKNOWN_ROLE: { zh: '角色未声明', en: 'The role is not declared' },
  PROC_UNKNOWN_EVENT: { zh: '操作未声明', en: 'The event is not declared' },
  PROC_UNKNOWN_STATE: { zh: '状态不存在', en: 'The state does not exist' },
  PROC_UNKNOWN_RECORD: { zh: '登记册未声明', en: 'The register is not declared' },
  PROC_RECORD_TYPE_MISMATCH: {
    zh: '登记字段的值类型不符',
    en: 'The value is not of the register field’s type',
  },
  PROC_ENGINE_ONLY_ACTION: {
    zh: '此动作只供引擎自身的程序使用',
    en: 'This action is only for the engine’s own procedures',
  },
  PROC_LOOKUP_FIELD: {
    zh: '查询的登记字段未声明，或有效期字段不是日期',
    en: 'The register field looked up is not declared, or a validity field is not a date',
  },
  PROC_LOOKUP_OUTCOME: {
    zh: '查询结果操作未声明、不接受查询送回的数据，或引擎以外的人也能发送',
    en: 'The lookup’s outcome event is undeclared, refuses what the lookup sends, or others than the engine may send it',
  },
  PROC_UNKNOWN_FIELD: { zh: '上下文字段未声明', en: 'The context field is not declared' },
  PROC_UNKNOWN_VARIABLE: { zh: '表达式中不能使用此变量', en: 'The expression may not use this variable' },
  PROC_UNKNOWN_INITIAL: { zh: '初始状态不是其子状态', en: 'The initial state is not one of its states' },
  PROC_UNREACHABLE_STATE: { zh: '状态永远无法进入', en: 'The state can never be entered' },
  PROC_NO_WAY_OUT: { zh: '状态没有出口', en: 'The state has no way out' },
  PROC_GUARD_SYNTAX: { zh: '条件表达式语法错误', en: 'Guard syntax error' },
  PROC_EXPRESSION_SYNTAX: { zh: '表达式语法错误', en: 'Expression syntax error' },
  PROC_BAD_DURATION: { zh: '时长无效', en: 'Invalid duration' },
  PROC_SLA_ORDER: {
    zh: '时限顺序不对：提醒须早于到期，升级须逐级延后',
    en: 'SLA out of order: reminders come before the due time, each escalation after the one before',
  },
  PROC_SLA_NOBODY_AWAITED: {
    zh: '此状态不等待任何角色，无人可提醒',
    en: 'The state awaits no role: nobody to remind',
  },
  PROC_SLA_DUPLICATE: {
    zh: '重复的提醒或升级：同一时限、同一接收角色',
    en: 'A reminder or escalation repeated: same delay, same recipient',
  },
  PROC_BAD_EVENT_SCHEMA: { zh: '操作数据的模式无效', en: 'Invalid event data schema' },
  PROC_BAD_FIELD_SCHEMA: {
    zh: '上下文字段的模式或默认值无效',
    en: 'Invalid context field schema or default',
  },
  PROC_INVARIANT_VIOLATED: { zh: '不变量未得到证明', en: 'An invariant is not proved' },
  PROC_UNKNOWN_PROCEDURE: { zh: '启动的程序未部署', en: 'The procedure started is not deployed' },
  PROC_START_INPUT_MISMATCH: {
    zh: '启动输入与被启动程序不符',
    en: 'The start input does not fit the procedure started',
  },
  PROC_START_FIELD_NOT_INPUT: {
    zh: '启动时设置了非输入字段',
    en: 'The start sets a field that is not an input field',
  },
  PROC_SENSITIVE_IN_CLEAR: {
    zh: '敏感字段会以明文写出',
    en: 'A sensitive field would be written in clear',
  },
  PROC_UNKNOWN_ACTION: { zh: '未知的动作', en: 'Unknown action' },
  PROC_EXPRESSION_COST: { zh: '表达式可能运行过久', en: 'The expression could run too long' },
  PROC_MORE_DIAGNOSTICS: { zh: '还有更多问题未列出', en: 'More problems than listed' },
  PROC_ON_DONE_NEVER: {
    zh: '该状态永远不会完成，on_done 不会发生',
    en: 'The state is never done: its on_done is never taken',
  },
  PROC_EVENTLESS_LOOP: { zh: '无事件转换可能无限循环', en: 'Eventless transitions can loop without end' },
  PROC_MISSING_TRANSLATION: {
    zh: '文本缺少定义声明的语言版本',
    en: "The text lacks one of the definition's languages",
  },
  PROC_UNDECLARED_LANGUAGE: {
    zh: '文本使用了定义未声明的语言',
    en: 'The text has a language the definition does not declare',
  },
  PROC_CALL_MISPLACED: {
    zh: '调用只能用于原子状态，输出只能用于 on_done',
    en: 'A call belongs on an atomic state, its output on on_done only',
  },
  PROC_CALL_UNKNOWN_OUTCOME: {
    zh: '被调用程序没有此终止状态',
    en: 'The called procedure has no such final state',
  },
  PROC_CALL_UNHANDLED_OUTCOME: {
    zh: '被调用程序的某个终止状态未被处理',
    en: 'A final state of the called procedure is not handled',
  },
  PROC_CALL_OUTPUT_FIELD: {
    zh: '调用输出的字段不存在',
    en: 'A field of the call’s output does not exist',
  },
  PROC_CALL_OUTPUT_TYPE: {
    zh: '调用输出的字段类型不符',
    en: 'A field of the call’s output is not of the receiving field’s type',
  },
  PROC_ATTACHMENT_FIELD_RESERVED: {
    zh: 'attachments 是引擎保留的附件字段，操作数据的模式不能声明它；请在操作的 attachments: 下声明附件类别',
    en: 'attachments is the engine’s field of attached files: declare kinds under the event’s attachments:, not in its data',
  },
  YAML_ALIAS_BUDGET: { zh: 'YAML 别名展开过大', en: 'YAML aliases expand too far' },
  PROC_BAD_MIGRATION: {
    zh: '迁移映射的目标状态无效',
    en: 'The migration maps to a state instances cannot be moved to',
  },
};

/** What each business-calendar code means (`calendar-load.ts` diagnostics, `calendar.ts` warnings). */
export const CALENDAR_DIAGNOSTIC_TEXT: Record<
  CalendarDiagnosticCode | CalendarWarning['code'],
  { zh: string; en: string }
> = {
  CAL_YAML_SYNTAX: { zh: '日历 YAML 语法错误', en: 'Calendar YAML syntax error' },
  CAL_DUPLICATE_KEY: { zh: '日历中有重复的键', en: 'Duplicate key in the calendar' },
  CAL_SHAPE: { zh: '不符合日历的结构', en: 'Not the shape a calendar has' },
  CAL_UNKNOWN_KEY: { zh: '日历中有未知的键', en: 'Unknown key in the calendar' },
  CAL_BAD_DATE: { zh: '日期无效（应为 YYYY-MM-DD）', en: 'Invalid date (expected YYYY-MM-DD)' },
  CAL_BAD_RANGE: { zh: '日期范围的结束早于开始', en: 'The date range ends before it starts' },
  CAL_BAD_TIMEZONE: { zh: '时区无效', en: 'Invalid time zone' },
  CAL_BAD_WEEKDAY: {
    zh: '周末应为 ISO 星期数（1 为周一，7 为周日）',
    en: 'Weekend days are ISO weekdays (1 Monday to 7 Sunday)',
  },
  CAL_OVERLAP: {
    zh: '日期重复或重叠（节假日之间，或节假日与调休上班日之间）',
    en: 'Dates listed twice or overlapping (between holidays, or a holiday and an adjusted working day)',
  },
  CAL_WORKDAY_NOT_WEEKEND: {
    zh: '调休上班日须是周末',
    en: 'An adjusted working day must fall on a weekend',
  },
  CAL_OUTSIDE_COVERAGE: {
    zh: '日期在日历覆盖范围之外',
    en: 'The date lies outside the dates the calendar covers',
  },
  CAL_BEYOND_COVERAGE: {
    zh: '计算用到了日历覆盖范围以外的日期：那里只按周末计算，节假日未知',
    en: 'The computation went beyond the dates the calendar covers: only weekends were assumed there, holidays unknown',
  },
};
